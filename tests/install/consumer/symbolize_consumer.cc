// SPDX-License-Identifier: Apache-2.0
// remcov::symbolize from the installed package: this program finds the
// source line of one of its own functions.
#include <link.h>
#include <stdint.h>

#include <cstdio>
#include <string>

#include "remcov/symbolize.h"

extern "C" __attribute__((noinline)) int consumer_probe(int x) {
  return x * 3 + 1;
}

namespace {

int MainProgramBias(struct dl_phdr_info* info, size_t, void* data) {
  *static_cast<uintptr_t*>(data) = info->dlpi_addr;
  return 1;  // the first entry is the main program
}

}  // namespace

int main() {
  auto s = remcov::Symbolizer::Open("/proc/self/exe");
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.status().ToString().c_str());
    return 1;
  }
  uintptr_t bias = 0;
  dl_iterate_phdr(MainProgramBias, &bias);
  const uint64_t address = reinterpret_cast<uintptr_t>(&consumer_probe) - bias;
  auto frames = (*s)->SymbolizeAddress(address);
  if (!frames.ok() || frames->empty()) {
    std::fprintf(stderr, "no frames: %s\n",
                 frames.ok() ? "" : frames.status().ToString().c_str());
    return 2;
  }
  const remcov::SourceFrame& f = frames->front();
  std::printf("symbolize_consumer: %s at %s:%u\n", f.function.c_str(),
              f.file.c_str(), f.line);
  return consumer_probe(0) == 1 ? 0 : 3;
}
