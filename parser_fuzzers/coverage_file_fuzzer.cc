// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the coverage-file reader (include/remcov/
// coverage_file.h): ParseCoverage must reject bad bytes with a Status, never
// crash, and whatever it accepts must survive SerializeCoverage and a second
// ParseCoverage unchanged (and serialize to the same bytes again).
// src/format/coverage_file.cc is compiled into this target with
// -fsanitize=fuzzer, so the reader's own coverage guides the fuzzer.
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <string>
#include <string_view>

#include "remcov/coverage_file.h"

namespace {

bool SameData(const remcov::CoverageData& a, const remcov::CoverageData& b) {
  return a.mode == b.mode && a.word_bytes == b.word_bytes &&
         a.flags == b.flags && a.raw_count == b.raw_count &&
         a.dropped == b.dropped && a.pcs == b.pcs && a.cmps == b.cmps;
}

[[noreturn]] void Fail(const char* what) {
  fprintf(stderr, "coverage_file_fuzzer: %s\n", what);
  fflush(stderr);
  __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto parsed = remcov::ParseCoverage(
      std::string_view(reinterpret_cast<const char*>(data), size));
  if (!parsed.ok()) {
    if (parsed.status().message().empty()) Fail("an error without a message");
    return 0;
  }
  const std::string bytes = remcov::SerializeCoverage(*parsed);
  auto again = remcov::ParseCoverage(bytes);
  if (!again.ok()) Fail("SerializeCoverage wrote bytes ParseCoverage rejects");
  if (!SameData(*parsed, *again)) Fail("the round trip changed the data");
  if (remcov::SerializeCoverage(*again) != bytes)
    Fail("serializing the same data twice gave different bytes");
  return 0;
}
