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

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "remcov/export.h"
#include "remcov/status.h"
#include "remcov/trace_records.h"

namespace remcov {

inline constexpr char kCoverageFileMagic[8] = {'R', 'M', 'C', 'O',
                                               'V', 'C', 'O', 'V'};
inline constexpr uint32_t kCoverageFileVersion = 3;        // written
inline constexpr uint32_t kCoverageFileOldestVersion = 1;  // still read
inline constexpr uint32_t kCoverageFileHeaderBytes = 64;
// Limits of one module record (docs/format.md); larger is corrupt.
inline constexpr uint32_t kCoverageModulePathMax = 4096;
inline constexpr uint32_t kCoverageModuleBuildIdMax = 64;   // bytes
inline constexpr uint32_t kCoverageModuleRecordBytes = 40;  // fixed part
// One record of the process table (version 3; docs/format.md).
inline constexpr uint32_t kCoverageProcessRecordBytes = 48;
// The most processes one file may hold (a larger table is corrupt): bounds
// what ReadCoverageFile reads before the header's counts apply.
inline constexpr uint64_t kCoverageProcessMax = 65536;
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

enum ProcessFlags : uint32_t {
  // The process replaced its program by exec(): the next process with the
  // same pid continues it. Entries that did not fit before the exec are not
  // counted.
  kProcessExeced = 1u << 0,
  // The process ended without exit() (a signal, _exit, a crash): its
  // coverage up to the end is here, the entries that did not fit are not
  // counted.
  kProcessNoExit = 1u << 1,
  // Its load map is missing or partial: some of its PCs may be unresolved.
  kProcessMapPartial = 1u << 2,
  // It was a fork() child of `ppid`, traced from the fork on.
  kProcessForked = 1u << 3,
};

// One traced process (version 3): the file's modules and entries are
// grouped by process, in process-table order. Its PCs resolve through its
// own load map only (two processes may load different files at the same
// addresses).
struct CoverageProcess {
  uint64_t pid = 0;
  uint64_t ppid = 0;
  uint32_t flags = 0;    // ProcessFlags
  uint64_t modules = 0;  // its records: the next `modules` of the load map
  uint64_t entries = 0;  // its entries: the next `entries` PCs or records
  uint64_t dropped = 0;  // its entries known to be lost
  bool operator==(const CoverageProcess&) const = default;
};

struct CoverageData {
  uint32_t version = kCoverageFileVersion;  // as read (1 to 3)
  TraceMode mode = TraceMode::kPc;
  uint32_t word_bytes = 8;  // the collecting kernel's (or runtime's) word size
  uint32_t flags = 0;       // CoverageFlags
  uint64_t raw_count = 0;   // word 0 as read (may exceed the entries)
  uint64_t dropped = 0;     // entries known to be lost (overflow)
  std::vector<CoverageModule> modules;  // the load map (empty in version 1)
  // Empty: one address space, every entry resolves through all of
  // `modules` (kernel traces, merges, versions 1 and 2). Otherwise the
  // processes partition `modules` and the entries, in order (their counts
  // sum to the sizes).
  std::vector<CoverageProcess> processes;
  std::vector<uint64_t> pcs;    // mode == kPc
  std::vector<CmpRecord> cmps;  // mode == kCmp
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
    std::span<const CoverageModule> modules, uint64_t pc);

// Where one process's modules and entries lie in a CoverageData.
struct ProcessRange {
  size_t process = 0;  // index into CoverageData::processes (0 without any)
  size_t module_begin = 0, module_end = 0;
  size_t entry_begin = 0, entry_end = 0;
};
// The address spaces of d: one range per process, or one range over all
// modules and entries when d.processes is empty. REQUIRES: d is consistent
// (as ParseCoverage returns it, or CheckProcesses(d) is ok).
REMCOV_EXPORT std::vector<ProcessRange> ProcessRanges(const CoverageData& d);
// Ok when d.processes is empty or its counts sum to the sizes of d.modules
// and of the entries; else kInvalidArgument saying which.
REMCOV_EXPORT Status CheckProcesses(const CoverageData& d);
// The module of each entry (PC, or a record's ip), resolved through its own
// process's load map; nullptr for an entry outside every module.
REMCOV_EXPORT std::vector<const CoverageModule*> EntryModules(
    const CoverageData& d);

}  // namespace remcov

#endif  // REMCOV_COVERAGE_FILE_H_
