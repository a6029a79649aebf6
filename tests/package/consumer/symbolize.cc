// SPDX-License-Identifier: Apache-2.0
// The package test's consumer of remcov::symbolize (find_package(remcov)):
//   pkg_symbolize ELF   lists ELF's instrumented sites and prints each
//                       site's function and file:line, then the count.
// Exit 0 when the module has sites, 1 otherwise (or on an error).
#include "remcov/symbolize.h"

#include <inttypes.h>
#include <stdio.h>

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s ELF\n", argv[0]);
    return 2;
  }
  auto sites = remcov::ListInstrumentedSites(argv[1]);
  if (!sites.ok()) {
    fprintf(stderr, "pkg_symbolize: %s\n", sites.status().ToString().c_str());
    return 1;
  }
  auto symbolizer = remcov::Symbolizer::Open(argv[1]);
  if (!symbolizer.ok()) {
    fprintf(stderr, "pkg_symbolize: %s\n",
            symbolizer.status().ToString().c_str());
    return 1;
  }
  for (const remcov::InstrumentedSite& s : *sites) {
    auto frames = (*symbolizer)->SymbolizeReturnAddress(s.pc);
    if (!frames.ok() || frames->empty()) {
      fprintf(stderr, "pkg_symbolize: no frames for 0x%" PRIx64 "\n", s.pc);
      return 1;
    }
    const remcov::SourceFrame& f = frames->front();
    printf("site 0x%" PRIx64 " %s %s:%u\n", s.pc, f.function.c_str(),
           f.file.c_str(), f.line);
  }
  printf("pkg_symbolize: %zu sites\n", sites->size());
  return sites->empty() ? 1 : 0;
}
