// SPDX-License-Identifier: Apache-2.0
// The versioned binary coverage file written by `remcov trace -o FILE`
// (docs/format.md): a 64-byte little-endian header (magic "RMCOVCOV",
// version, mode, word size, flags, counts, payload checksum) followed by the
// PCs (one u64 each) or comparison records (four u64 each).
//
// The reader trusts nothing: a truncated file, a bad magic, an unknown
// version, a size that disagrees with the header, a checksum mismatch or a
// comparison type above 7 is a kDataLoss (or kUnimplemented for a newer
// version) Status naming the problem.
//
// Thread safety: pure functions over their arguments.
#ifndef REMCOV_COVERAGE_FILE_H_
#define REMCOV_COVERAGE_FILE_H_

#include <stdint.h>

#include <string>
#include <string_view>
#include <vector>

#include "remcov/collector.h"
#include "remcov/export.h"
#include "remcov/status.h"

namespace remcov {

inline constexpr char kCoverageFileMagic[8] = {'R', 'M', 'C', 'O',
                                               'V', 'C', 'O', 'V'};
inline constexpr uint32_t kCoverageFileVersion = 1;
inline constexpr uint32_t kCoverageFileHeaderBytes = 64;

enum CoverageFlags : uint32_t {
  kCoverageUnique = 1u << 0,     // PCs/records deduplicated
  kCoverageOverflow = 1u << 1,   // the buffer filled up: coverage is partial
  kCoverageRemote = 1u << 2,     // collected with KCOV_REMOTE_ENABLE
  kCoverageInProcess = 1u << 3,  // collected by the in-process runtime
};

struct CoverageData {
  TraceMode mode = TraceMode::kPc;
  uint32_t word_bytes = 8;  // the collecting kernel's (or runtime's) word size
  uint32_t flags = 0;       // CoverageFlags
  uint64_t raw_count = 0;   // word 0 as read (may exceed the entries)
  uint64_t dropped = 0;     // entries known to be lost (overflow)
  std::vector<uint64_t> pcs;    // mode == kPc
  std::vector<CmpRecord> cmps;  // mode == kCmp
};

// The file's bytes.
REMCOV_EXPORT std::string SerializeCoverage(const CoverageData& data);
// Parses and validates bytes produced by SerializeCoverage.
REMCOV_EXPORT StatusOr<CoverageData> ParseCoverage(std::string_view bytes);
REMCOV_EXPORT Status WriteCoverageFile(const std::string& path,
                                       const CoverageData& data);
REMCOV_EXPORT StatusOr<CoverageData> ReadCoverageFile(const std::string& path);

}  // namespace remcov

#endif  // REMCOV_COVERAGE_FILE_H_
