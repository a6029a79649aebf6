// SPDX-License-Identifier: Apache-2.0
// The versioned binary coverage file written by `remcov trace -o FILE`
// (docs/format.md): a 64-byte little-endian header (magic "RMCOVCOV",
// version, mode, word size, flags, module count, counts, checksum), then, in
// version 2, a module table (the load map: which file each PC came from, and
// its load bias), then the PCs (one u64 each) or comparison records (four u64
// each).
//
// The reader trusts nothing: a truncated file, a bad magic, an unknown
// version, a module record or payload whose size disagrees with the file, a
// checksum mismatch or a comparison type above 7 is a kDataLoss (or
// kUnimplemented for a newer version) Status naming the problem. Sizes are
// checked against the input's length before anything is allocated, so a
// hostile header cannot make the reader allocate more than the input's size.
// Version 1 files (no module table) are still read.
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
inline constexpr uint32_t kCoverageFileVersion = 2;        // written
inline constexpr uint32_t kCoverageFileOldestVersion = 1;  // still read
inline constexpr uint32_t kCoverageFileHeaderBytes = 64;
// Limits of one module record (docs/format.md); larger is corrupt.
inline constexpr uint32_t kCoverageModulePathMax = 4096;
inline constexpr uint32_t kCoverageModuleBuildIdMax = 64;   // bytes
inline constexpr uint32_t kCoverageModuleRecordBytes = 40;  // fixed part
// ReadCoverageFile reads a file that is not a regular file (a pipe, a
// device, /dev/stdin) up to this many bytes (4 GiB); a header whose counts
// need more is refused before anything is read after it.
inline constexpr uint64_t kCoverageStreamMaxBytes = uint64_t{1} << 32;

enum CoverageFlags : uint32_t {
  kCoverageUnique = 1u << 0,     // PCs/records deduplicated
  kCoverageOverflow = 1u << 1,   // the buffer filled up: coverage is partial
  kCoverageRemote = 1u << 2,     // collected with KCOV_REMOTE_ENABLE
  kCoverageInProcess = 1u << 3,  // collected by the in-process runtime
};

enum class ModuleKind : uint32_t {
  kUser = 0,          // an ELF file mapped into the traced process
  kKernel = 1,        // vmlinux (PCs are KASLR-canonical: bias 0)
  kKernelModule = 2,  // a loaded .ko (path is the module's name)
};

enum ModuleFlags : uint32_t {
  // start/end/bias are unknown (e.g. /proc/modules without root shows 0).
  kModuleAddressUnknown = 1u << 0,
};

// One entry of the load map. A runtime PC belongs to the module when
// start <= pc < end; its module address (what the ELF file's symbols and
// DWARF use) is pc - bias.
struct CoverageModule {
  ModuleKind kind = ModuleKind::kUser;
  uint32_t flags = 0;    // ModuleFlags
  std::string path;      // absolute file path, "vmlinux", or the .ko's name
  std::string build_id;  // lower-case hex of NT_GNU_BUILD_ID; "" if unknown
  uint64_t start = 0;    // lowest runtime address of an executable segment
  uint64_t end = 0;      // one past the highest
  uint64_t bias = 0;     // runtime address - module address
  bool operator==(const CoverageModule&) const = default;
};

struct CoverageData {
  uint32_t version = kCoverageFileVersion;  // as read (1 or 2)
  TraceMode mode = TraceMode::kPc;
  uint32_t word_bytes = 8;  // the collecting kernel's (or runtime's) word size
  uint32_t flags = 0;       // CoverageFlags
  uint64_t raw_count = 0;   // word 0 as read (may exceed the entries)
  uint64_t dropped = 0;     // entries known to be lost (overflow)
  std::vector<CoverageModule> modules;  // the load map (empty in version 1)
  std::vector<uint64_t> pcs;            // mode == kPc
  std::vector<CmpRecord> cmps;          // mode == kCmp
};

// The file's bytes (always the current version).
REMCOV_EXPORT std::string SerializeCoverage(const CoverageData& data);
// Parses and validates bytes produced by SerializeCoverage (this version or
// an older one).
REMCOV_EXPORT StatusOr<CoverageData> ParseCoverage(std::string_view bytes);
REMCOV_EXPORT Status WriteCoverageFile(const std::string& path,
                                       const CoverageData& data);
// Reads the header first and then at most the bytes its counts allow (and,
// for a file that is not a regular file, at most kCoverageStreamMaxBytes):
// an endless or oversized input is refused after a bounded read.
REMCOV_EXPORT StatusOr<CoverageData> ReadCoverageFile(const std::string& path);
// The same over an open descriptor (e.g. 0, standard input), with the same
// bounds (a regular file by fstat, else kCoverageStreamMaxBytes); `name`
// prefixes errors. The descriptor is not closed.
REMCOV_EXPORT StatusOr<CoverageData> ReadCoverageFd(int fd,
                                                    const std::string& name);

// The module table's encoding on its own: `count` records, back to back, as
// in the file. The in-process runtime writes this encoding into the
// `remcov trace` hand-off (src/runtime/trace_env.cc); the tool decodes it
// here. Trailing bytes after the records are an error.
REMCOV_EXPORT std::string SerializeModules(
    const std::vector<CoverageModule>& modules);
REMCOV_EXPORT StatusOr<std::vector<CoverageModule>> ParseModules(
    std::string_view bytes, uint64_t count);

// "0a1b..." for raw bytes; and back ("" for an odd length or a non-hex
// digit is reported through *ok).
REMCOV_EXPORT std::string HexEncode(std::string_view raw);
REMCOV_EXPORT std::string HexDecode(std::string_view hex, bool* ok);

// The calling process's load map now: one kUser module per loaded ELF object
// with an executable segment (dl_iterate_phdr; the main program's path from
// /proc/self/exe), with its build-id. For programs that write their own
// coverage files (a Collector's PCs plus this map make a file that
// `remcov report` can read after the process exits). Not async-signal-safe.
REMCOV_EXPORT std::vector<CoverageModule> CurrentLoadMap();

// The module containing `pc` (start <= pc < end), or nullptr.
REMCOV_EXPORT const CoverageModule* FindModule(
    const std::vector<CoverageModule>& modules, uint64_t pc);

}  // namespace remcov

#endif  // REMCOV_COVERAGE_FILE_H_
