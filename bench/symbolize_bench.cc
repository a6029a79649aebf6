// SPDX-License-Identifier: Apache-2.0
// Driver for bench/symbolize_bench.sh: reads hex addresses (one per line) from
// stdin, symbolizes them all with remcov::Symbolizer in one batch and prints
// the wall time of the batch (Open included) on stderr. With --print it writes
// the frames on stdout in the format of `addr2line -a -f -i -C`, so the two
// outputs can be diffed.
//
// Usage: symbolize_bench [--print] [--return-addresses] ELF < addresses
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <string>
#include <vector>

#include "remcov/symbolize.h"

#include "symbolize/symbolizer_internal.h"

namespace {

double Now() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) +
         static_cast<double>(ts.tv_nsec) * 1e-9;
}

}  // namespace

int main(int argc, char** argv) {
  bool print = false;
  bool return_addresses = false;
  bool cus = false;
  bool bfd_history = false;
  const char* elf = nullptr;
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--print") == 0) {
      print = true;
    } else if (strcmp(argv[i], "--bfd-history") == 0) {
      bfd_history = true;
    } else if (strcmp(argv[i], "--cus") == 0) {
      cus = true;
    } else if (strcmp(argv[i], "--return-addresses") == 0) {
      return_addresses = true;
    } else {
      elf = argv[i];
    }
  }
  if (elf == nullptr) {
    fprintf(stderr,
            "usage: symbolize_bench [--print] [--return-addresses] ELF < "
            "addresses\n");
    return 2;
  }
  std::vector<uint64_t> addrs;
  char line[128];
  while (fgets(line, sizeof line, stdin) != nullptr) {
    addrs.push_back(strtoull(line, nullptr, 16));
  }
  const double t0 = Now();
  auto sym = bfd_history ? remcov::symbolize_internal::OpenWithBfdHistory(elf)
                         : remcov::Symbolizer::Open(elf);
  if (!sym.ok()) {
    fprintf(stderr, "symbolize_bench: %s\n", sym.status().ToString().c_str());
    return 1;
  }
  std::vector<remcov::SourceFrames> frames;
  std::vector<uint64_t> pcs = addrs;
  if (!return_addresses) {
    for (uint64_t& pc : pcs) ++pc;  // the batch looks up pc - 1
  }
  remcov::Status st = (*sym)->SymbolizeReturnAddresses(pcs, &frames);
  const double t1 = Now();
  if (!st.ok()) {
    fprintf(stderr, "symbolize_bench: %s\n", st.ToString().c_str());
    return 1;
  }
  fprintf(stderr, "%zu addresses in %.6f s\n", addrs.size(), t1 - t0);
  if (print) {
    std::string out;
    for (size_t i = 0; i < addrs.size(); ++i) {
      char head[32];
      snprintf(head, sizeof head, "0x%016" PRIx64 "\n",
               return_addresses ? addrs[i] - 1 : addrs[i]);
      out += head;
      if (cus) {
        out += "CUS " +
               std::to_string(remcov::symbolize_internal::CompileUnitsCovering(
                   **sym, addrs[i])) +
               "\n";
      }
      for (const remcov::SourceFrame& f : frames[i]) {
        out += f.function;
        out += '\n';
        out += f.file;
        out += ':';
        out += f.line != 0 ? std::to_string(f.line) : std::string("?");
        out += '\n';
      }
    }
    fwrite(out.data(), 1, out.size(), stdout);
  }
  return 0;
}
