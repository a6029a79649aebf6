// SPDX-License-Identifier: Apache-2.0
// Cobertura XML (exports.h), valid against Cobertura's coverage-04.dtd:
// <coverage> with its nine required attributes, <sources>, then one
// <package> per source directory, one <class> per source file (its
// <methods>: one per function; its <lines>: every instrumented line with its
// hit count). remcov has no branch data: branch-rate is 1 and the branch
// counts 0, as Cobertura writes for code without branches; complexity is 0.
#include <inttypes.h>
#include <stdio.h>

#include <algorithm>
#include <map>
#include <tuple>

#include "report/exports.h"
#include "report/text_escape.h"

namespace remcov::tool {
namespace {

// A rate as Cobertura consumers parse it: a decimal in [0, 1], 1 when there
// is nothing to cover, at most four decimals, no exponent.
std::string Rate(const Counts& c) {
  if (c.lines == 0) return "1";
  char buf[32];
  snprintf(buf, sizeof buf, "%.4f",
           static_cast<double>(c.covered) / static_cast<double>(c.lines));
  std::string s = buf;
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

std::string Number(uint64_t v) {
  char buf[24];
  snprintf(buf, sizeof buf, "%" PRIu64, v);
  return buf;
}

class Writer {
 public:
  void Raw(std::string_view s) { out_.append(s); }
  void Text(std::string_view s) { replaced_ += AppendXml(s, &out_); }
  void Attr(std::string_view name, std::string_view value) {
    out_ += ' ';
    out_.append(name);
    out_ += "=\"";
    Text(value);
    out_ += '"';
  }
  void Lines(const std::map<uint32_t, LineCoverage>& lines,
             std::string_view indent) {
    if (lines.empty()) {
      Raw(indent);
      Raw("<lines/>\n");
      return;
    }
    Raw(indent);
    Raw("<lines>\n");
    for (const auto& [n, l] : lines) {
      Raw(indent);
      Raw("  <line");
      Attr("number", Number(n));
      Attr("hits", Number(l.hits[0]));
      Attr("branch", "false");
      Raw("/>\n");
    }
    Raw(indent);
    Raw("</lines>\n");
  }
  std::string& out() { return out_; }
  uint64_t replaced() const { return replaced_; }

 private:
  std::string out_;
  uint64_t replaced_ = 0;
};

// The path a class names: relative to the root when under it.
std::string RelativeTo(const std::string& path, const std::string& root) {
  std::string r = root;
  while (r.size() > 1 && r.back() == '/') r.pop_back();
  if (r.empty()) return path;
  if (r == "/")
    return path.size() > 1 && path[0] == '/' ? path.substr(1) : path;
  if (path.size() > r.size() + 1 && path.compare(0, r.size(), r) == 0 &&
      path[r.size()] == '/')
    return path.substr(r.size() + 1);
  return path;
}

}  // namespace

ExportOutput ExportCobertura(const CoverageModel& m,
                             const CoberturaOptions& o) {
  // Files by package (directory, '/' -> '.', as gcovr names them) and name.
  struct File {
    std::string filename, name;
    const FileCoverage* coverage;
  };
  std::map<std::string, std::vector<File>> packages;
  Counts total;
  for (const auto& [path, f] : m.files) {
    File file{RelativeTo(path, o.root), "", &f};
    const size_t slash = file.filename.rfind('/');
    std::string package;
    if (slash == std::string::npos) {
      file.name = file.filename;
    } else {
      file.name = file.filename.substr(slash + 1);
      package = file.filename.substr(0, slash);
      while (!package.empty() && package[0] == '/') package.erase(0, 1);
      std::replace(package.begin(), package.end(), '/', '.');
    }
    packages[package].push_back(file);
    const Counts c = CountLines(f.lines, 0);
    total.lines += c.lines;
    total.covered += c.covered;
  }

  Writer w;
  w.Raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
  w.Raw(
      "<!DOCTYPE coverage SYSTEM "
      "\"http://cobertura.sourceforge.net/xml/coverage-04.dtd\">\n");
  w.Raw("<coverage");
  w.Attr("line-rate", Rate(total));
  w.Attr("branch-rate", "1");
  w.Attr("lines-covered", Number(total.covered));
  w.Attr("lines-valid", Number(total.lines));
  w.Attr("branches-covered", "0");
  w.Attr("branches-valid", "0");
  w.Attr("complexity", "0");
  w.Attr("version", o.version);
  w.Attr("timestamp", Number(static_cast<uint64_t>(o.timestamp_ms)));
  w.Raw(">\n");
  if (o.root.empty()) {
    w.Raw("  <sources/>\n");
  } else {
    w.Raw("  <sources>\n    <source>");
    w.Text(o.root);
    w.Raw("</source>\n  </sources>\n");
  }
  w.Raw("  <packages>\n");
  for (auto& [package, files] : packages) {
    std::sort(files.begin(), files.end(), [](const File& a, const File& b) {
      return a.filename < b.filename;
    });
    Counts pc;
    for (const File& f : files) {
      const Counts c = CountLines(f.coverage->lines, 0);
      pc.lines += c.lines;
      pc.covered += c.covered;
    }
    w.Raw("    <package");
    w.Attr("name", package);
    w.Attr("line-rate", Rate(pc));
    w.Attr("branch-rate", "1");
    w.Attr("complexity", "0");
    w.Raw(">\n      <classes>\n");
    for (const File& f : files) {
      w.Raw("        <class");
      w.Attr("name", f.name);
      w.Attr("filename", f.filename);
      w.Attr("line-rate", Rate(CountLines(f.coverage->lines, 0)));
      w.Attr("branch-rate", "1");
      w.Attr("complexity", "0");
      w.Raw(">\n");
      // Functions in source order.
      std::vector<const std::pair<const std::string, FunctionCoverage>*> fns;
      for (const auto& fn : f.coverage->functions) fns.push_back(&fn);
      std::sort(fns.begin(), fns.end(), [](const auto* a, const auto* b) {
        return std::tie(a->second.first_line, a->first) <
               std::tie(b->second.first_line, b->first);
      });
      if (fns.empty()) {
        w.Raw("          <methods/>\n");
      } else {
        w.Raw("          <methods>\n");
        for (const auto* fn : fns) {
          w.Raw("            <method");
          w.Attr("name", fn->first);
          w.Attr("signature", "");
          w.Attr("line-rate", Rate(CountLines(fn->second.lines, 0)));
          w.Attr("branch-rate", "1");
          w.Attr("complexity", "0");
          w.Raw(">\n");
          w.Lines(fn->second.lines, "              ");
          w.Raw("            </method>\n");
        }
        w.Raw("          </methods>\n");
      }
      w.Lines(f.coverage->lines, "          ");
      w.Raw("        </class>\n");
    }
    w.Raw("      </classes>\n    </package>\n");
  }
  w.Raw("  </packages>\n</coverage>\n");

  ExportOutput out;
  out.bytes = std::move(w.out());
  char buf[200];
  if (m.unattributed[0] != 0) {
    snprintf(buf, sizeof buf,
             "%" PRIu64
             " recorded PCs lie outside every module of the load map: not in "
             "the Cobertura report",
             m.unattributed[0]);
    out.warnings.push_back(buf);
  }
  for (const ModuleSummary& s : m.modules) {
    if (s.addresses_without_source == 0) continue;
    snprintf(buf, sizeof buf,
             "%" PRIu64
             " addresses (sites or PCs) have no source line (no debug "
             "info?): not in the Cobertura report: module ",
             s.addresses_without_source);
    out.warnings.push_back(buf + s.module.path);
  }
  if (w.replaced() != 0) {
    snprintf(buf, sizeof buf,
             "%" PRIu64
             " bytes or characters of paths or names are not UTF-8 or not "
             "allowed in XML: written as U+FFFD",
             w.replaced());
    out.warnings.push_back(buf);
  }
  return out;
}

}  // namespace remcov::tool
