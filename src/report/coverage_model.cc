// SPDX-License-Identifier: Apache-2.0
// Source coverage from coverage files: aggregation and the text, JSON, lcov
// and diff emitters of `remcov report` / `remcov diff` (coverage_model.h).
#include "report/coverage_model.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include <algorithm>
#include <set>
#include <tuple>
#include <utility>

#include "base/strings.h"
#include "report/text_escape.h"

namespace remcov::tool {
namespace {

// Module identity across runs (a PIE's bias differs from run to run).
using ModuleKey = std::tuple<uint32_t, std::string, std::string>;
ModuleKey KeyOf(const CoverageModule& m) {
  return {static_cast<uint32_t>(m.kind), m.path, m.build_id};
}

std::vector<uint64_t> RunPcs(const CoverageData& d) {
  if (d.mode == TraceMode::kPc) return d.pcs;
  std::vector<uint64_t> out;
  out.reserve(d.cmps.size());
  for (const CmpRecord& r : d.cmps) out.push_back(r.ip);
  return out;
}

const char* KindName(ModuleKind k) {
  switch (k) {
    case ModuleKind::kUser:
      return "user";
    case ModuleKind::kKernel:
      return "kernel";
    case ModuleKind::kKernelModule:
      return "kernel-module";
  }
  return "?";
}

using internal::StrPrintf;

std::string Hex(uint64_t v) { return StrPrintf("0x%" PRIx64, v); }

std::string Display(const std::string& path, const std::string& root) {
  if (root.empty()) return path;
  std::string r = root;
  while (r.size() > 1 && r.back() == '/') r.pop_back();
  if (path.size() > r.size() + 1 && path.compare(0, r.size(), r) == 0 &&
      path[r.size()] == '/')
    return path.substr(r.size() + 1);
  return path;
}

std::string Percent(const Counts& c) {
  if (c.lines == 0) return "     -";
  return StrPrintf("%5.1f%%", 100.0 * static_cast<double>(c.covered) /
                                  static_cast<double>(c.lines));
}

// Always valid UTF-8: bytes that are not are escaped losslessly as \uDCXX
// (text_escape.h).
std::string JsonString(const std::string& s) {
  std::string out;
  AppendJsonStringLossless(s, &out);
  return out;
}

// Functions of a file in source order.
std::vector<const std::pair<const std::string, FunctionCoverage>*>
SortedFunctions(const FileCoverage& f) {
  std::vector<const std::pair<const std::string, FunctionCoverage>*> v;
  for (const auto& fn : f.functions) v.push_back(&fn);
  std::sort(v.begin(), v.end(), [](const auto* a, const auto* b) {
    return std::tie(a->second.first_line, a->first) <
           std::tie(b->second.first_line, b->first);
  });
  return v;
}

// Files sorted by the path shown.
std::vector<std::pair<std::string, const FileCoverage*>> SortedFiles(
    const CoverageModel& m, const std::string& root) {
  std::vector<std::pair<std::string, const FileCoverage*>> v;
  for (const auto& [path, f] : m.files) v.emplace_back(Display(path, root), &f);
  std::sort(v.begin(), v.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  return v;
}

uint64_t MaxHits(const FunctionCoverage& fn, int run) {
  uint64_t h = 0;
  for (const auto& [line, l] : fn.lines) h = std::max(h, l.hits[run]);
  return h;
}

struct Totals {
  Counts lines;
  uint64_t functions = 0, functions_covered = 0;
};
Totals Total(const CoverageModel& m, int run) {
  Totals t;
  for (const auto& [path, f] : m.files) {
    Counts c = CountLines(f.lines, run);
    t.lines.lines += c.lines;
    t.lines.covered += c.covered;
    for (const auto& [name, fn] : f.functions) {
      t.functions++;
      if (MaxHits(fn, run) != 0) t.functions_covered++;
    }
  }
  return t;
}

std::string ModuleLine(const ModuleSummary& s, int run) {
  std::string out = StrPrintf("module %s (%s", s.module.path.c_str(),
                              KindName(s.module.kind));
  if (!s.module.build_id.empty())
    out += ", build-id " + s.module.build_id.substr(0, 16);
  out += StrPrintf("): %" PRIu64 " PCs, %" PRIu64 " instrumented sites\n",
                   s.pcs[run], s.sites);
  if (s.pcs_not_sites[run] != 0) {
    out += StrPrintf("  note: %" PRIu64
                     " recorded PCs are not instrumented sites (counted)\n",
                     s.pcs_not_sites[run]);
  }
  if (s.unattributed_tail_call_pcs[run] != 0) {
    out += StrPrintf(
        "  note: %" PRIu64
        " recorded PCs come from functions with several tail jumps to the "
        "callback and are on no line (-fno-optimize-sibling-calls makes "
        "attribution exact)\n",
        s.unattributed_tail_call_pcs[run]);
  }
  if (s.addresses_without_source != 0) {
    out += StrPrintf("  note: %" PRIu64
                     " addresses have no source line (no debug info?)\n",
                     s.addresses_without_source);
  }
  return out;
}

// One table row: the name padded to `width` columns (at least 52; wider
// when a name is longer, so the count columns stay aligned).
std::string Row(const std::string& name, const Counts& c, size_t width) {
  std::string cells = StrPrintf("%6" PRIu64 "/%-6" PRIu64 " %s", c.covered,
                                c.lines, Percent(c).c_str());
  std::string out = name;
  if (out.size() < width)
    out.resize(width, ' ');
  else
    out += ' ';
  return out + cells + "\n";
}

}  // namespace

Counts CountLines(const std::map<uint32_t, LineCoverage>& lines, int run) {
  Counts c;
  for (const auto& [n, l] : lines) {
    c.lines++;
    if (l.hits[run] != 0) c.covered++;
  }
  return c;
}

StatusOr<CoverageModel> BuildCoverageModel(
    std::span<const CoverageData* const> runs, const SourceMapOpener& open,
    const ModuleProgressFn& progress) {
  CoverageModel model;
  if (runs.empty() || runs.size() > kMaxRuns)
    return Status(StatusCode::kInvalidArgument, "one or two runs");
  model.runs = static_cast<int>(runs.size());
  const TraceMode mode = runs[0]->mode;
  for (const CoverageData* d : runs) {
    if (d->mode != mode) {
      return Status(StatusCode::kInvalidArgument,
                    "the coverage files have different modes (pc, cmp)");
    }
  }
  // Per module: the module addresses each run recorded, with their counts.
  std::map<ModuleKey, size_t> index;
  std::vector<std::map<uint64_t, uint64_t>> hits[kMaxRuns];
  for (size_t r = 0; r < runs.size(); r++) {
    const std::vector<uint64_t> pcs = RunPcs(*runs[r]);
    // Each PC through its own process's load map.
    const std::vector<const CoverageModule*> mods = EntryModules(*runs[r]);
    for (size_t e = 0; e < pcs.size(); e++) {
      const uint64_t pc = pcs[e];
      const CoverageModule* m = mods[e];
      if (m == nullptr) {
        model.unattributed[r]++;
        continue;
      }
      auto [it, added] = index.emplace(KeyOf(*m), model.modules.size());
      if (added) {
        model.modules.push_back(ModuleSummary{.module = *m});
        for (auto& h : hits) h.emplace_back();
      }
      model.modules[it->second].pcs[r]++;
      hits[r][it->second][pc - m->bias]++;
    }
  }
  for (size_t i = 0; i < model.modules.size(); i++) {
    ModuleSummary& s = model.modules[i];
    auto source = open(s.module);
    if (!source.ok()) return source.status();
    auto sites = source.value()->Sites(mode);
    if (!sites.ok()) return sites.status();
    std::set<uint64_t> site_set(sites->sites.begin(), sites->sites.end());
    const std::set<uint64_t> ambiguous(sites->ambiguous_tail_calls.begin(),
                                       sites->ambiguous_tail_calls.end());
    s.sites = site_set.size();
    std::set<uint64_t> all = site_set;
    for (size_t r = 0; r < runs.size(); r++) {
      // A tail call's hits move to its tail jump, or out of the lines.
      std::map<uint64_t, uint64_t> attributed;
      for (const auto& [addr, n] : hits[r][i]) {
        uint64_t at = addr;
        if (site_set.count(addr) == 0) {
          auto tail = sites->tail_calls.find(addr);
          if (tail != sites->tail_calls.end()) {
            at = tail->second;
            s.tail_call_pcs[r] += n;
          } else if (ambiguous.count(addr) != 0) {
            s.unattributed_tail_call_pcs[r] += n;
            continue;
          } else {
            s.pcs_not_sites[r]++;
          }
        }
        attributed[at] += n;
        all.insert(at);
      }
      hits[r][i] = std::move(attributed);
    }
    std::vector<uint64_t> addrs(all.begin(), all.end());
    std::vector<SourceFrames> frames;
    ProgressFn p = progress ? progress(s.module, addrs.size()) : ProgressFn();
    Status st = source.value()->Symbolize(addrs, &frames, p);
    if (!st.ok()) {
      return Status(st.code(), s.module.path + ": " + st.message(),
                    st.error_number());
    }
    if (frames.size() != addrs.size())
      return Status(StatusCode::kInternal,
                    "symbolizer returned too few frames");
    for (size_t a = 0; a < addrs.size(); a++) {
      if (frames[a].empty() || frames[a][0].line == 0 ||
          frames[a][0].file == "??") {
        s.addresses_without_source++;
        continue;
      }
      s.addresses_with_source++;
      const SourceFrame& f = frames[a][0];
      FileCoverage& file = model.files[f.file];
      LineCoverage& line = file.lines[f.line];
      FunctionCoverage& fn = file.functions[f.function];
      LineCoverage& fline = fn.lines[f.line];
      if (fn.first_line == 0 || f.line < fn.first_line) fn.first_line = f.line;
      if (site_set.count(addrs[a]) != 0) {
        line.sites++;
        fline.sites++;
      }
      for (size_t r = 0; r < runs.size(); r++) {
        auto h = hits[r][i].find(addrs[a]);
        if (h == hits[r][i].end()) continue;
        line.hits[r] += h->second;
        fline.hits[r] += h->second;
      }
    }
  }
  return model;
}

std::string EmitText(const CoverageModel& m, const EmitOptions& o) {
  std::string out = "remcov report: " + o.input_name;
  if (o.data != nullptr) {
    out += StrPrintf(
        " (format %u, %s mode, %zu entries%s)", o.data->version,
        o.data->mode == TraceMode::kPc ? "pc" : "cmp",
        o.data->mode == TraceMode::kPc ? o.data->pcs.size()
                                       : o.data->cmps.size(),
        (o.data->flags & kCoverageOverflow) ? ", overflow: partial" : "");
  }
  out += "\n";
  for (const ModuleSummary& s : m.modules) out += ModuleLine(s, 0);
  if (m.unattributed[0] != 0) {
    out += StrPrintf("note: %" PRIu64
                     " PCs lie outside every module of the load map\n",
                     m.unattributed[0]);
  }
  const auto files = SortedFiles(m, o.root);
  size_t width = 52;
  for (const auto& [name, f] : files) {
    width = std::max(width, name.size() + 1);
    for (const auto* fn : SortedFunctions(*f))
      width = std::max(width, fn->first.size() + 3);
  }
  out += "\n" + Row("File / function", Counts{}, width).substr(0, width) +
         "Lines covered\n";
  for (const auto& [name, f] : files) {
    out += Row(name, CountLines(f->lines, 0), width);
    for (const auto* fn : SortedFunctions(*f))
      out += Row("  " + fn->first, CountLines(fn->second.lines, 0), width);
  }
  const Totals t = Total(m, 0);
  out += Row("TOTAL lines", t.lines, width);
  out +=
      Row("TOTAL functions", Counts{t.functions, t.functions_covered}, width);
  return out;
}

std::string EmitJson(const CoverageModel& m, const EmitOptions& o) {
  std::string out = "{\n  \"schema\": \"remcov-report\",\n";
  out += "  \"schema_version\": 1,\n";
  out += "  \"input\": {\"path\": " + JsonString(o.input_name);
  if (!o.input_names.empty()) {
    out += ", \"paths\": [";
    for (size_t i = 0; i < o.input_names.size(); i++)
      out += (i == 0 ? "" : ", ") + JsonString(o.input_names[i]);
    out += "]";
  }
  if (o.data != nullptr) {
    const CoverageData& d = *o.data;
    out += StrPrintf(
        ", \"format_version\": %u, \"mode\": \"%s\", \"entries\": %zu, "
        "\"overflow\": %s, \"dropped\": %" PRIu64,
        d.version, d.mode == TraceMode::kPc ? "pc" : "cmp",
        d.mode == TraceMode::kPc ? d.pcs.size() : d.cmps.size(),
        (d.flags & kCoverageOverflow) ? "true" : "false", d.dropped);
  }
  out += "},\n  \"modules\": [";
  for (size_t i = 0; i < m.modules.size(); i++) {
    const ModuleSummary& s = m.modules[i];
    out += i == 0 ? "\n" : ",\n";
    out += "    {\"path\": " + JsonString(s.module.path) + ", \"kind\": \"" +
           KindName(s.module.kind) +
           "\", \"build_id\": " + JsonString(s.module.build_id) +
           ", \"start\": \"" + Hex(s.module.start) + "\", \"end\": \"" +
           Hex(s.module.end) + "\", \"bias\": \"" + Hex(s.module.bias) + "\"";
    out += StrPrintf(
        ", \"sites\": %" PRIu64 ", \"pcs\": %" PRIu64
        ", \"pcs_not_sites\": %" PRIu64 ", \"tail_call_pcs\": %" PRIu64
        ", \"unattributed_tail_call_pcs\": %" PRIu64
        ", \"addresses_without_source\": %" PRIu64 "}",
        s.sites, s.pcs[0], s.pcs_not_sites[0], s.tail_call_pcs[0],
        s.unattributed_tail_call_pcs[0], s.addresses_without_source);
  }
  out += m.modules.empty() ? "],\n" : "\n  ],\n";
  out += StrPrintf("  \"unattributed_pcs\": %" PRIu64 ",\n", m.unattributed[0]);
  const Totals t = Total(m, 0);
  out += StrPrintf(
      "  \"totals\": {\"lines_instrumented\": %" PRIu64
      ", \"lines_covered\": %" PRIu64 ", \"functions_instrumented\": %" PRIu64
      ", \"functions_covered\": %" PRIu64 "},\n",
      t.lines.lines, t.lines.covered, t.functions, t.functions_covered);
  out += "  \"files\": [";
  bool first_file = true;
  for (const auto& [name, f] : SortedFiles(m, o.root)) {
    const Counts c = CountLines(f->lines, 0);
    out += first_file ? "\n" : ",\n";
    first_file = false;
    out += "    {\"path\": " + JsonString(name) +
           StrPrintf(", \"lines_instrumented\": %" PRIu64
                     ", \"lines_covered\": %" PRIu64 ",\n",
                     c.lines, c.covered);
    out += "     \"functions\": [";
    bool first = true;
    for (const auto* fn : SortedFunctions(*f)) {
      const Counts fc = CountLines(fn->second.lines, 0);
      out += first ? "\n" : ",\n";
      first = false;
      out +=
          "       {\"name\": " + JsonString(fn->first) +
          StrPrintf(", \"first_line\": %u, \"lines_instrumented\": %" PRIu64
                    ", \"lines_covered\": %" PRIu64 ", \"hits\": %" PRIu64 "}",
                    fn->second.first_line, fc.lines, fc.covered,
                    MaxHits(fn->second, 0));
    }
    out += "],\n     \"lines\": [";
    first = true;
    for (const auto& [n, l] : f->lines) {
      out += first ? "" : ", ";
      first = false;
      out += StrPrintf("{\"line\": %u, \"hits\": %" PRIu64 ", \"sites\": %u}",
                       n, l.hits[0], l.sites);
    }
    out += "]}";
  }
  out += first_file ? "]\n}\n" : "\n  ]\n}\n";
  return out;
}

std::string EmitLcov(const CoverageModel& m, const EmitOptions& /*o*/,
                     std::vector<std::string>* warnings) {
  std::string out;
  uint64_t left_out = 0, left_out_lines = 0;
  std::string example;
  for (const auto& [path, f] : m.files) {
    if (!LcovCanHoldPath(path)) {
      left_out++;
      left_out_lines += f.lines.size();
      if (example.empty()) {
        AppendJsonStringLossless(path, &example);
      }
      continue;
    }
    out += "TN:\nSF:" + path + "\n";
    uint64_t fnf = 0, fnh = 0;
    for (const auto* fn : SortedFunctions(f)) {
      const std::string name = LcovName(fn->first);
      const uint64_t h = MaxHits(fn->second, 0);
      out += StrPrintf("FN:%u,%s\nFNDA:%" PRIu64 ",%s\n", fn->second.first_line,
                       name.c_str(), h, name.c_str());
      fnf++;
      if (h != 0) fnh++;
    }
    out += StrPrintf("FNF:%" PRIu64 "\nFNH:%" PRIu64 "\n", fnf, fnh);
    for (const auto& [n, l] : f.lines)
      out += StrPrintf("DA:%u,%" PRIu64 "\n", n, l.hits[0]);
    const Counts c = CountLines(f.lines, 0);
    out += StrPrintf("LF:%" PRIu64 "\nLH:%" PRIu64 "\nend_of_record\n", c.lines,
                     c.covered);
  }
  if (left_out != 0 && warnings != nullptr) {
    warnings->push_back(StrPrintf(
        "lcov cannot hold a source path with a newline or carriage return: "
        "%" PRIu64 " source files (%" PRIu64
        " instrumented lines) left out, e.g. %s",
        left_out, left_out_lines, example.c_str()));
  }
  return out;
}

namespace {

struct DiffCounts {
  uint64_t only_b = 0, only_a = 0, both = 0, neither = 0;
};
DiffCounts CountDiff(const CoverageModel& m) {
  DiffCounts d;
  for (const auto& [path, f] : m.files) {
    for (const auto& [n, l] : f.lines) {
      const bool a = l.hits[0] != 0, b = l.hits[1] != 0;
      if (a && b)
        d.both++;
      else if (a)
        d.only_a++;
      else if (b)
        d.only_b++;
      else
        d.neither++;
    }
  }
  return d;
}

// Lines of fn that run `in` covers and the other run does not.
std::vector<uint32_t> OnlyLines(const FunctionCoverage& fn, int in) {
  std::vector<uint32_t> v;
  for (const auto& [n, l] : fn.lines)
    if (l.hits[in] != 0 && l.hits[1 - in] == 0) v.push_back(n);
  return v;
}

// Text: per file, "  function: lines 1, 2"; "  (none)" when empty.
std::string DiffSectionText(const CoverageModel& m, const EmitOptions& o,
                            int in) {
  std::string out;
  for (const auto& [name, f] : SortedFiles(m, o.root)) {
    std::string block;
    for (const auto* fn : SortedFunctions(*f)) {
      std::vector<uint32_t> lines = OnlyLines(fn->second, in);
      if (lines.empty()) continue;
      block += "  " + fn->first + ": line" + (lines.size() > 1 ? "s" : "");
      for (size_t i = 0; i < lines.size(); i++)
        block += StrPrintf("%s %u", i == 0 ? "" : ",", lines[i]);
      block += "\n";
    }
    if (!block.empty()) out += "\n" + name + "\n" + block;
  }
  return out.empty() ? "\n  (none)\n" : out;
}

// JSON: [{"path", "functions": [{"name", "lines"}]}].
std::string DiffSectionJson(const CoverageModel& m, const EmitOptions& o,
                            int in) {
  std::string out = "[";
  bool first_file = true;
  for (const auto& [name, f] : SortedFiles(m, o.root)) {
    std::string fns;
    for (const auto* fn : SortedFunctions(*f)) {
      std::vector<uint32_t> lines = OnlyLines(fn->second, in);
      if (lines.empty()) continue;
      fns += fns.empty() ? "" : ", ";
      fns += "{\"name\": " + JsonString(fn->first) + ", \"lines\": [";
      for (size_t i = 0; i < lines.size(); i++)
        fns += StrPrintf("%s%u", i == 0 ? "" : ", ", lines[i]);
      fns += "]}";
    }
    if (fns.empty()) continue;
    out += first_file ? "\n" : ",\n";
    first_file = false;
    out += "    {\"path\": " + JsonString(name) + ", \"functions\": [" + fns +
           "]}";
  }
  return out + (first_file ? "]" : "\n  ]");
}

}  // namespace

std::string EmitDiffText(const CoverageModel& m, const EmitOptions& o) {
  const DiffCounts d = CountDiff(m);
  std::string out =
      "remcov diff: " + o.input_name + " -> " + o.input_name_b + "\n";
  out += StrPrintf("lines covered only by B: %" PRIu64 ", only by A: %" PRIu64
                   ", by both: %" PRIu64 ", by neither: %" PRIu64 "\n",
                   d.only_b, d.only_a, d.both, d.neither);
  out += "\nGained: lines covered only by B\n" + DiffSectionText(m, o, 1);
  out += "\nLost: lines covered only by A\n" + DiffSectionText(m, o, 0);
  return out;
}

std::string EmitDiffJson(const CoverageModel& m, const EmitOptions& o) {
  const DiffCounts d = CountDiff(m);
  std::string out = "{\n  \"schema\": \"remcov-diff\",\n";
  out += "  \"schema_version\": 1,\n";
  out += "  \"a\": " + JsonString(o.input_name) +
         ",\n  \"b\": " + JsonString(o.input_name_b) + ",\n";
  out += StrPrintf("  \"summary\": {\"lines_only_b\": %" PRIu64
                   ", \"lines_only_a\": %" PRIu64 ", \"lines_both\": %" PRIu64
                   ", \"lines_neither\": %" PRIu64 "},\n",
                   d.only_b, d.only_a, d.both, d.neither);
  out += "  \"only_b\": " + DiffSectionJson(m, o, 1) + ",\n";
  out += "  \"only_a\": " + DiffSectionJson(m, o, 0) + "\n}\n";
  return out;
}

}  // namespace remcov::tool
