// SPDX-License-Identifier: Apache-2.0
// Source coverage from coverage files: the core of `remcov report` and
// `remcov diff` (docs/tools/remcov.md, "Attribution"). It maps each recorded
// PC to its module through the file's load map, asks a SourceMap (the
// module's instrumented sites and its PC -> source frames; the real one is
// the libdw Symbolizer, tests use fakes) and aggregates per file, function
// and line. Emitters turn the model into text, JSON, lcov and diffs.
//
// Attribution rule: every address of a module is looked up as a return
// address (address - 1, inside the call to the coverage callback); its
// innermost frame (the inlined function, if any) gives the file, line and
// function. A line is instrumented if an instrumented site maps to it, and
// covered in a run if one of that run's recorded PCs maps to it; its hit count
// is the number of recorded PCs (with repeats) that map to it. A recorded PC
// that is not a site still counts (the line becomes instrumented and
// covered) and is reported in pcs_not_sites. PCs outside every module of the
// load map are counted as unattributed. Addresses without source (no debug
// info) are counted per module and not listed.
//
// Tail jumps (gcc -O2 `jmp __sanitizer_cov_trace_pc`, docs/symbolize.md):
// each jump is an instrumented site on its own line. The callback records
// the return address of the call into the jumping function; a recorded PC
// that is such a return address is a hit of the callee's tail jump when the
// callee has exactly one (tail_call_pcs), else it is counted as
// unattributed_tail_call_pcs and lands on no line.
//
// Thread safety: BuildCoverageModel calls the opener and SourceMaps from the
// calling thread only.
#ifndef REMCOV_REPORT_COVERAGE_MODEL_H_
#define REMCOV_REPORT_COVERAGE_MODEL_H_

#include <stdint.h>

#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "remcov/coverage_file.h"
#include "remcov/status.h"
#include "remcov/symbolize.h"

namespace remcov::tool {

// A module's instrumented sites that record in one mode (PC sites for PC
// coverage, comparison sites for comparison records), as module addresses in
// the return-address convention (what the callbacks record).
struct SiteSet {
  std::vector<uint64_t> sites;  // calls to callbacks and tail jumps to them
  // Return addresses of calls to functions that tail-jump to a callback
  // (what the callback records then): the one tail jump (in sites) each
  // stands for, or, in ambiguous_tail_calls, those whose callee has several.
  std::map<uint64_t, uint64_t> tail_calls;
  std::vector<uint64_t> ambiguous_tail_calls;
};

// The source-level view of one module.
class SourceMap {
 public:
  virtual ~SourceMap() = default;
  virtual StatusOr<SiteSet> Sites(TraceMode mode) = 0;
  // out[i] = frames of return address pcs[i], innermost first.
  virtual Status Symbolize(std::span<const uint64_t> pcs,
                           std::vector<SourceFrames>* out,
                           const ProgressFn& progress) = 0;
};

// Opens the SourceMap of a module (finding its file, checking its build-id).
using SourceMapOpener =
    std::function<StatusOr<std::unique_ptr<SourceMap>>(const CoverageModule&)>;
// Called with the module's path before it is symbolized, and the progress.
using ModuleProgressFn =
    std::function<ProgressFn(const CoverageModule& module, size_t addresses)>;

inline constexpr int kMaxRuns = 2;

struct LineCoverage {
  uint64_t hits[kMaxRuns] = {0, 0};  // recorded PCs mapping here, per run
  uint32_t sites = 0;                // instrumented sites mapping here
};

struct FunctionCoverage {
  uint32_t first_line = 0;  // lowest instrumented line
  std::map<uint32_t, LineCoverage> lines;
};

struct FileCoverage {
  std::map<uint32_t, LineCoverage> lines;
  std::map<std::string, FunctionCoverage> functions;
};

struct ModuleSummary {
  CoverageModule module;
  uint64_t sites = 0;               // instrumented sites in the module
  uint64_t pcs[kMaxRuns] = {0, 0};  // recorded PCs (with repeats)
  uint64_t pcs_not_sites[kMaxRuns] = {0, 0};  // distinct, not a site
  // Recorded PCs (with repeats) of tail calls: attributed to the callee's
  // one tail jump, and not attributed (the callee has several).
  uint64_t tail_call_pcs[kMaxRuns] = {0, 0};
  uint64_t unattributed_tail_call_pcs[kMaxRuns] = {0, 0};
  uint64_t addresses_without_source = 0;  // sites or PCs: "??" or line 0
  uint64_t addresses_with_source = 0;     // sites or PCs with a file and line
};

struct CoverageModel {
  int runs = 1;
  std::vector<ModuleSummary> modules;  // those with recorded PCs, in order
  uint64_t unattributed[kMaxRuns] = {0, 0};  // PCs outside every module
  std::map<std::string, FileCoverage> files;
};

// Builds the model of 1 or 2 runs (2 for diff). Modules are matched across
// runs by kind, path and build-id; each run's PCs use its own load bias. Only
// modules in which some run recorded a PC are opened. A module that cannot
// be opened fails the whole model (the Status names it).
StatusOr<CoverageModel> BuildCoverageModel(
    std::span<const CoverageData* const> runs, const SourceMapOpener& open,
    const ModuleProgressFn& progress = {});

struct Counts {
  uint64_t lines = 0, covered = 0;
};
Counts CountLines(const std::map<uint32_t, LineCoverage>& lines, int run);

struct EmitOptions {
  std::string root;        // text/json: paths under root shown relative
  std::string input_name;  // the coverage file(s), for headers
  std::string input_name_b;
  // report of several files (their union): each (json "input.paths").
  std::vector<std::string> input_names;
  const CoverageData* data = nullptr;  // header facts (json), may be null
  const CoverageData* data_b = nullptr;
};

std::string EmitText(const CoverageModel& m, const EmitOptions& o);
std::string EmitJson(const CoverageModel& m, const EmitOptions& o);
// Source files whose path lcov cannot hold (a newline or carriage return)
// are left out and counted in *warnings (when given), so genhtml never reads
// a broken record.
std::string EmitLcov(const CoverageModel& m, const EmitOptions& o,
                     std::vector<std::string>* warnings = nullptr);
// What run 1 (B) covers that run 0 (A) does not (gained, "only_b") and the
// reverse (lost, "only_a"), per file, function and line.
std::string EmitDiffText(const CoverageModel& m, const EmitOptions& o);
std::string EmitDiffJson(const CoverageModel& m, const EmitOptions& o);

}  // namespace remcov::tool

#endif  // REMCOV_REPORT_COVERAGE_MODEL_H_
