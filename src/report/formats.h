// SPDX-License-Identifier: Apache-2.0
// The one list of `remcov report` / `remcov diff` output formats: the name
// given to --format, what each needs, where it can go, and its line of
// --help. The command line validates --format, prints its help and checks
// the output against this list; RunExport dispatches on ReportFormat with a
// switch the compiler checks for completeness, so a format cannot be listed
// without an emitter, or the reverse (docs/tools/remcov.md, "Formats").
//
// Thread safety: the list is constant; RunExport is as thread-safe as the
// functions in its request.
#ifndef REMCOV_REPORT_FORMATS_H_
#define REMCOV_REPORT_FORMATS_H_

#include <stdint.h>

#include <span>
#include <string>
#include <string_view>

#include "remcov/coverage_file.h"
#include "remcov/status.h"

#include "report/coverage_model.h"
#include "report/exports.h"

namespace remcov::tool {

enum class ReportFormat {
  kText,
  kJson,
  kLcov,
  kCobertura,
  kDrcov,
  kRawcover,
  kJsonl,
  kSancov,
};

enum class FormatOutput {
  kText,       // stdout or -o FILE
  kBinary,     // stdout (never a terminal) or -o FILE
  kDirectory,  // one file per module into -o DIR
};

struct FormatInfo {
  std::string_view name;  // --format NAME
  ReportFormat format;
  FormatOutput output;
  bool diff;              // `remcov diff` writes it too
  bool needs_model;       // the source-line model (modules' debug info)
  bool pc_only;           // PC coverage only: comparison-mode files are refused
  std::string_view help;  // `remcov report --help`, after the name
  std::string_view diff_help;  // `remcov diff --help` (diff formats)
};

// Every format, in the order --help lists them.
std::span<const FormatInfo> ReportFormats();
// nullptr for an unknown name.
const FormatInfo* FindReportFormat(std::string_view name);
// "text, json, lcov, ..." (only diff's when `diff`).
std::string FormatNames(bool diff);
// The --help lines of the --format option (only diff's when `diff`).
std::string FormatHelp(bool diff);

struct ExportRequest {
  const FormatInfo* format = nullptr;
  const CoverageData* data = nullptr;  // the run (report: one file)
  // format->needs_model: the model of `data`, built by the caller.
  const CoverageModel* model = nullptr;
  EmitOptions emit;  // text, json, lcov, cobertura
  CoberturaOptions cobertura;
  SourceMapOpener open;       // jsonl
  ModuleProgressFn progress;  // jsonl
  ModuleImageFn image;        // drcov
};

// Writes `data` (or the model) in request.format. Errors: kInvalidArgument
// when the format cannot hold the file (comparison records in a PC format, a
// module path drcov cannot write, PCs of several address spaces in
// rawcover), otherwise the Status of the opener, source map or image
// function that failed. What a format could not hold but does not stop the
// export is counted in ExportOutput::warnings.
StatusOr<ExportOutput> RunExport(const ExportRequest& request);

}  // namespace remcov::tool

#endif  // REMCOV_REPORT_FORMATS_H_
