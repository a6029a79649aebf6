// SPDX-License-Identifier: Apache-2.0
// The coverage file's byte encoding (docs/format.md), shared by the writer of
// a whole file (SerializeCoverage, coverage_file.cc) and the streaming writer
// of a merge (CoverageMerger::Write, coverage_merge.cc): little-endian words,
// the FNV-1a 64 checksum of everything after the header, the entries and the
// 64-byte header. Internal to remcov_format.
#ifndef REMCOV_FORMAT_COVERAGE_ENCODING_H_
#define REMCOV_FORMAT_COVERAGE_ENCODING_H_

#include <stdint.h>

#include <string>
#include <string_view>

#include "remcov/coverage_file.h"

namespace remcov::format_internal {

inline void PutU32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; i++)
    out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
inline void PutU64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; i++)
    out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// FNV-1a 64 over everything after the header, fed in pieces.
struct Fnv {
  uint64_t h = 0xcbf29ce484222325ull;
  void Add(std::string_view s) {
    for (char c : s) {
      h ^= static_cast<unsigned char>(c);
      h *= 0x100000001b3ull;
    }
  }
};

// A comparison record's four words.
inline void PutCmpRecord(std::string* out, const CmpRecord& r) {
  PutU64(out, r.type);
  PutU64(out, r.arg1);
  PutU64(out, r.arg2);
  PutU64(out, r.ip);
}

// The header (kCoverageFileHeaderBytes) of a file with d's fields, `entries`
// entries and the body checksum `checksum`, at the current version.
inline std::string EncodeHeader(const CoverageData& d, uint64_t entries,
                                uint64_t checksum) {
  std::string h(kCoverageFileMagic, sizeof kCoverageFileMagic);
  PutU32(&h, kCoverageFileVersion);
  PutU32(&h, kCoverageFileHeaderBytes);
  PutU32(&h, static_cast<uint32_t>(d.mode));
  PutU32(&h, d.word_bytes);
  PutU32(&h, d.flags);
  PutU32(&h, static_cast<uint32_t>(d.modules.size()));
  PutU64(&h, entries);
  PutU64(&h, d.raw_count);
  PutU64(&h, d.dropped);
  PutU64(&h, checksum);
  return h;
}

}  // namespace remcov::format_internal

#endif  // REMCOV_FORMAT_COVERAGE_ENCODING_H_
