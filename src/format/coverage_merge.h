// SPDX-License-Identifier: Apache-2.0
// The union of coverage files (`remcov merge`, and `remcov report A B C`):
// files are added one at a time, and only the distinct entries are kept
// (a PC, or a comparison record, with its summed count), so memory is
// bounded by the distinct entries, not by the inputs (docs/format.md,
// "Merged files").
//
// Rules:
// - All inputs have one mode (PCs or comparison records) and one word size;
//   an input with another is refused (kInvalidArgument) and nothing of it is
//   kept.
// - Modules are matched across inputs by kind and build-id (by kind and path
//   when the build-id is unknown); each input's PCs are turned into module
//   addresses with its own load bias. Different modules are kept side by side:
//   a module keeps the runtime range of the first input that had it unless
//   that overlaps a module placed before it, in which case it is moved above
//   every other module (its bias moves with it, so its module addresses, and
//   so its source lines, are unchanged).
// - A PC outside every module of its file's load map (a version 1 file has
//   none) is kept unchanged.
// - Counts: a PC recorded k times in one input (a file without the unique
//   flag) counts k; counts are summed over the inputs. The output repeats each
//   entry its summed count (as `remcov trace` writes repeats), or, with
//   `unique`, writes it once and sets kCoverageUnique.
// - Header: the overflow, remote and in-process flags (and unknown bits) are
//   the OR of the inputs'; dropped is the sum; raw_count is the entries
//   written plus dropped.
//
// Thread safety: a CoverageMerger is used by one thread at a time.
#ifndef REMCOV_FORMAT_COVERAGE_MERGE_H_
#define REMCOV_FORMAT_COVERAGE_MERGE_H_

#include <stdint.h>

#include <string>
#include <unordered_map>
#include <vector>

#include "remcov/coverage_file.h"
#include "remcov/status.h"

namespace remcov {

struct MergeStats {
  uint64_t files = 0;             // inputs added
  uint64_t entries_in = 0;        // PCs or records read (with repeats)
  uint64_t dropped = 0;           // sum of the inputs' dropped counters
  uint64_t overflowed_files = 0;  // inputs with kCoverageOverflow
  uint64_t unattributed = 0;      // entries outside every module (repeats)
};

class CoverageMerger {
 public:
  // Adds one input (its data may be freed afterwards).
  Status Add(const CoverageData& d);

  const MergeStats& stats() const { return stats_; }
  // Distinct entries kept so far (what memory is bounded by).
  uint64_t distinct() const;
  // Modules of the output table.
  size_t modules() const { return modules_.size(); }
  // Entries the output will hold.
  uint64_t output_entries(bool unique) const;

  // The union in memory (for `remcov report A B ...`).
  StatusOr<CoverageData> Result(bool unique) const;
  // The union written to fd, the same bytes as SerializeCoverage(Result()),
  // without building the payload in memory. fd must be seekable (the
  // header's checksum is written last, with pwrite). `name` prefixes errors.
  Status Write(int fd, const std::string& name, bool unique) const;

 private:
  struct OutModule {
    CoverageModule record;  // as first seen
    bool has_range = false;
    uint64_t lo = 0, hi = 0;  // module-address range (union)
  };
  struct CmpKey {
    uint32_t module;  // index into modules_, or kNone
    uint64_t addr;    // module address of ip (or ip itself)
    uint64_t type, arg1, arg2;
    bool operator==(const CmpKey&) const = default;
  };
  struct CmpKeyHash {
    size_t operator()(const CmpKey& k) const;
  };
  static constexpr uint32_t kNone = UINT32_MAX;

  uint32_t ModuleIndex(const CoverageModule& m);
  // Output biases (per module), or an error when the modules cannot be
  // placed side by side in the address space.
  StatusOr<std::vector<uint64_t>> Layout() const;
  template <typename Fn>
  Status ForEachEntry(const std::vector<uint64_t>& bias, Fn&& fn) const;
  // The output's header fields and load map, each placed module at its
  // output bias.
  CoverageData Header(bool unique, const std::vector<uint64_t>& bias) const;

  bool first_ = true;
  TraceMode mode_ = TraceMode::kPc;
  uint32_t word_bytes_ = 8;
  uint32_t flags_ = 0;
  MergeStats stats_;
  std::vector<OutModule> modules_;
  std::unordered_map<std::string, uint32_t> module_index_;
  // PC mode: per module, module address -> count; raw PCs outside modules.
  std::vector<std::unordered_map<uint64_t, uint64_t>> pc_hits_;
  std::unordered_map<uint64_t, uint64_t> raw_hits_;
  std::unordered_map<CmpKey, uint64_t, CmpKeyHash> cmp_hits_;
};

}  // namespace remcov

#endif  // REMCOV_FORMAT_COVERAGE_MERGE_H_
