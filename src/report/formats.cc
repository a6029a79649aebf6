// SPDX-License-Identifier: Apache-2.0
// The list of report formats and the dispatch over it (formats.h).
#include "report/formats.h"

#include <inttypes.h>
#include <stdio.h>

namespace remcov::tool {
namespace {

constexpr FormatInfo kFormats[] = {
    {"text", ReportFormat::kText, FormatOutput::kText, true, true, false,
     "per file and function (the default)",
     "B's new lines per file and function (the default)"},
    {"json", ReportFormat::kJson, FormatOutput::kText, true, true, false,
     "the same as JSON (docs/report-json.md)", "the same as JSON"},
    {"lcov", ReportFormat::kLcov, FormatOutput::kText, false, true, false,
     "an lcov tracefile (genhtml's input)", ""},
    {"cobertura", ReportFormat::kCobertura, FormatOutput::kText, false, true,
     false, "Cobertura XML (coverage-04.dtd; GitLab, Jenkins)", ""},
    {"drcov", ReportFormat::kDrcov, FormatOutput::kBinary, false, false, true,
     "drcov 2 log (Lighthouse, Binary Ninja)", ""},
    {"rawcover", ReportFormat::kRawcover, FormatOutput::kText, false, false,
     true, "syzkaller raw cover: hex PCs, one a line", ""},
    {"jsonl", ReportFormat::kJsonl, FormatOutput::kText, false, false, true,
     "syzkaller JSONL: one object per PC and frame", ""},
    {"sancov", ReportFormat::kSancov, FormatOutput::kDirectory, false, false,
     true, "LLVM .sancov files, one per module, into -o DIR", ""},
};

}  // namespace

std::span<const FormatInfo> ReportFormats() { return kFormats; }

const FormatInfo* FindReportFormat(std::string_view name) {
  for (const FormatInfo& f : kFormats)
    if (f.name == name) return &f;
  return nullptr;
}

std::string FormatNames(bool diff) {
  std::string out;
  for (const FormatInfo& f : kFormats) {
    if (diff && !f.diff) continue;
    if (!out.empty()) out += ", ";
    out += f.name;
  }
  return out;
}

std::string FormatHelp(bool diff) {
  std::string out;
  for (const FormatInfo& f : kFormats) {
    if (diff && !f.diff) continue;
    // The name under --format, its text in the options' column (21).
    std::string line(21, ' ');
    line.replace(5, f.name.size(), f.name);
    out += line;
    out.append(diff ? f.diff_help : f.help);
    out += "\n";
  }
  return out;
}

StatusOr<ExportOutput> RunExport(const ExportRequest& r) {
  const FormatInfo& f = *r.format;
  const CoverageData& d = *r.data;
  if (f.pc_only && d.mode != TraceMode::kPc) {
    return Status(StatusCode::kInvalidArgument,
                  "--format " + std::string(f.name) +
                      " holds PC coverage, and this is a comparison-mode "
                      "file (remcov trace --cmp): its records' operands have "
                      "no place in it (--format json, lcov or cobertura give "
                      "the lines of its comparisons)");
  }
  if (f.needs_model && r.model == nullptr)
    return Status(StatusCode::kInternal, "RunExport: no model");
  StatusOr<ExportOutput> out = ExportOutput{};
  switch (f.format) {
    case ReportFormat::kText:
      out->bytes = EmitText(*r.model, r.emit);
      return out;
    case ReportFormat::kJson:
      out->bytes = EmitJson(*r.model, r.emit);
      return out;
    case ReportFormat::kLcov:
      out->bytes = EmitLcov(*r.model, r.emit, &out->warnings);
      return out;
    case ReportFormat::kCobertura:
      out = ExportCobertura(*r.model, r.cobertura);
      break;
    case ReportFormat::kDrcov:
      out = ExportDrcov(d, r.image);
      break;
    case ReportFormat::kRawcover:
      out = ExportRawcover(d);
      break;
    case ReportFormat::kJsonl:
      out = ExportJsonl(d, r.open, r.progress);
      break;
    case ReportFormat::kSancov:
      out = ExportSancov(d);
      break;
  }
  // The exports have no place for the file's own overflow flag: say it.
  if (out.ok() && (d.flags & kCoverageOverflow) != 0) {
    char buf[200];
    snprintf(buf, sizeof buf,
             "the trace overflowed: the coverage is partial (%" PRIu64
             " entries known lost; raise remcov trace --size)",
             d.dropped);
    out->warnings.insert(out->warnings.begin(), buf);
  }
  return out;
}

}  // namespace remcov::tool
