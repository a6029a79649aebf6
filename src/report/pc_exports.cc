// SPDX-License-Identifier: Apache-2.0
// The PC exports (exports.h): drcov, syzkaller's raw cover and JSONL, and
// .sancov files. They share the grouping of recorded PCs by module and the
// address rules of exports.h.
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <algorithm>
#include <map>
#include <set>

#include "base/strings.h"
#include "report/exports.h"
#include "report/text_escape.h"

namespace remcov::tool {
namespace {

using internal::StrPrintf;

bool IsKernel(const CoverageModule& m) {
  return m.kind == ModuleKind::kKernel || m.kind == ModuleKind::kKernelModule;
}

// The recorded PCs of one module: runtime PC -> times recorded.
struct ModulePcs {
  size_t module = 0;  // index into CoverageData::modules
  std::map<uint64_t, uint64_t> counts;
};

struct Grouped {
  std::vector<ModulePcs> modules;  // load-map order, only those with PCs
  uint64_t outside = 0;            // PCs in no module (with repeats)
};

Grouped GroupByModule(const CoverageData& d) {
  std::map<size_t, std::map<uint64_t, uint64_t>> by_module;
  Grouped g;
  // Each PC through its own process's load map.
  const std::vector<const CoverageModule*> mods = EntryModules(d);
  for (size_t e = 0; e < d.pcs.size(); e++) {
    const uint64_t pc = d.pcs[e];
    const CoverageModule* m = mods[e];
    if (m == nullptr) {
      g.outside++;
      continue;
    }
    by_module[static_cast<size_t>(m - d.modules.data())][pc]++;
  }
  for (auto& [index, counts] : by_module)
    g.modules.push_back(ModulePcs{index, std::move(counts)});
  return g;
}

std::string OutsideWarning(uint64_t n, const char* format) {
  return StrPrintf("%" PRIu64
                   " recorded PCs lie outside every module of the load map: %s "
                   "cannot place them; not written",
                   n, format);
}

std::string NotReturnAddressWarning(uint64_t n, const char* format) {
  return StrPrintf("%" PRIu64
                   " recorded PCs are too low to follow a call instruction "
                   "(below %" PRIu64
                   " or below their module's base): not "
                   "written to %s",
                   n, kCallInstructionBytes, format);
}

std::string BaseName(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

void AppendLe(std::string* out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; i++)
    out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

}  // namespace

StatusOr<ExportOutput> ExportDrcov(const CoverageData& data,
                                   const ModuleImageFn& image) {
  const Grouped g = GroupByModule(data);
  if (g.modules.size() > 65536) {
    return Status(StatusCode::kInvalidArgument,
                  StrPrintf("drcov numbers modules with 16 bits: PCs were "
                            "recorded in %zu modules",
                            g.modules.size()));
  }
  ExportOutput out;
  std::string table;
  std::string bbs;
  uint64_t entries = 0, too_low = 0, too_far = 0;
  for (size_t id = 0; id < g.modules.size(); id++) {
    const CoverageModule& m = data.modules[g.modules[id].module];
    // drcov separates columns with ", " and rows with newlines, and its
    // readers decode the table as UTF-8 (Lighthouse's drcov.py).
    if (m.path.find_first_of("\r\n") != std::string::npos ||
        m.path.find(", ") != std::string::npos || !IsUtf8(m.path)) {
      return Status(StatusCode::kInvalidArgument,
                    "drcov cannot write the path of module " + m.path +
                        " (a newline, \", \" or bytes that are not UTF-8 "
                        "would break its module table)");
    }
    auto img = image(m);
    if (!img.ok()) return img.status();
    const uint64_t base = m.bias + (img->lowest_vaddr & ~uint64_t{0xfff});
    const uint64_t entry = img->entry != 0 ? m.bias + img->entry : 0;
    table +=
        StrPrintf("%zu, 0x%016" PRIx64 ", 0x%016" PRIx64 ", 0x%016" PRIx64 ", ",
                  id, base, m.end, entry);
    table += m.path + "\n";
    std::set<uint64_t> offsets;
    for (const auto& [pc, n] : g.modules[id].counts) {
      if (pc < kCallInstructionBytes || pc - kCallInstructionBytes < base) {
        too_low += n;
        continue;
      }
      const uint64_t off = pc - kCallInstructionBytes - base;
      if (off > UINT32_MAX) {
        too_far += n;
        continue;
      }
      offsets.insert(off);
    }
    for (uint64_t off : offsets) {
      AppendLe(&bbs, off, 4);
      AppendLe(&bbs, kCallInstructionBytes, 2);
      AppendLe(&bbs, id, 2);
      entries++;
    }
  }
  out.bytes = "DRCOV VERSION: 2\nDRCOV FLAVOR: remcov\n";
  out.bytes +=
      StrPrintf("Module Table: version 2, count %zu\n", g.modules.size());
  out.bytes += "Columns: id, base, end, entry, path\n";
  out.bytes += table;
  out.bytes += StrPrintf("BB Table: %" PRIu64 " bbs\n", entries);
  out.bytes += bbs;
  if (g.outside != 0)
    out.warnings.push_back(OutsideWarning(g.outside, "drcov"));
  if (too_low != 0)
    out.warnings.push_back(NotReturnAddressWarning(too_low, "drcov"));
  if (too_far != 0) {
    out.warnings.push_back(
        StrPrintf("%" PRIu64
                  " recorded PCs lie 4 GiB or more above their module's base: "
                  "drcov's 32-bit offsets cannot hold them; not written",
                  too_far));
  }
  return out;
}

StatusOr<ExportOutput> ExportRawcover(const CoverageData& data) {
  // Which address space: the kernel's, or one user-space module's.
  const Grouped g = GroupByModule(data);
  bool has_user_map = false;
  for (const CoverageModule& m : data.modules)
    if (!IsKernel(m)) has_user_map = true;
  std::vector<std::string> spaces;
  bool kernel = false;
  for (const ModulePcs& mp : g.modules) {
    const CoverageModule& m = data.modules[mp.module];
    if (IsKernel(m))
      kernel = true;
    else if (std::find(spaces.begin(), spaces.end(), m.path) == spaces.end())
      spaces.push_back(m.path);  // one file: the same addresses in every
                                 // process that loaded it
  }
  if (kernel) spaces.insert(spaces.begin(), "the kernel");
  if (spaces.size() > 1) {
    std::string list;
    for (const std::string& s : spaces) list += (list.empty() ? "" : ", ") + s;
    return Status(StatusCode::kInvalidArgument,
                  "rawcover holds the PCs of one address space and has no "
                  "module column; these PCs lie in " +
                      std::to_string(spaces.size()) + " (" + list +
                      "): use --format drcov, sancov or jsonl, which keep "
                      "modules apart");
  }
  ExportOutput out;
  uint64_t outside = 0, too_low = 0;
  const std::vector<const CoverageModule*> mods = EntryModules(data);
  for (size_t e = 0; e < data.pcs.size(); e++) {
    const uint64_t pc = data.pcs[e];
    uint64_t address = pc;
    if (has_user_map) {
      // User space: module addresses (of the one module with PCs).
      const CoverageModule* m = mods[e];
      if (m == nullptr) {
        outside++;
        continue;
      }
      if (!IsKernel(*m)) address = pc - m->bias;
    }
    if (address < kCallInstructionBytes) {
      too_low++;
      continue;
    }
    out.bytes += StrPrintf("0x%" PRIx64 "\n", address - kCallInstructionBytes);
  }
  if (outside != 0) out.warnings.push_back(OutsideWarning(outside, "rawcover"));
  if (too_low != 0)
    out.warnings.push_back(NotReturnAddressWarning(too_low, "rawcover"));
  return out;
}

StatusOr<ExportOutput> ExportJsonl(const CoverageData& data,
                                   const SourceMapOpener& open,
                                   const ModuleProgressFn& progress) {
  const Grouped g = GroupByModule(data);
  ExportOutput out;
  uint64_t replaced = 0, too_low = 0;
  for (const ModulePcs& mp : g.modules) {
    const CoverageModule& m = data.modules[mp.module];
    auto source = open(m);
    if (!source.ok()) return source.status();
    auto sites = source.value()->Sites(data.mode);
    if (!sites.ok()) return sites.status();
    // Module address -> times recorded; sites recorded 0 times.
    std::map<uint64_t, uint64_t> hits;
    for (uint64_t s : sites->sites) hits.emplace(s, 0);
    for (const auto& [pc, n] : mp.counts) hits[pc - m.bias] += n;
    std::vector<uint64_t> addrs;
    for (const auto& [a, n] : hits) addrs.push_back(a);
    std::vector<SourceFrames> frames;
    ProgressFn p = progress ? progress(m, addrs.size()) : ProgressFn();
    Status st = source.value()->Symbolize(addrs, &frames, p);
    if (!st.ok())
      return Status(st.code(), m.path + ": " + st.message(), st.error_number());
    if (frames.size() != addrs.size())
      return Status(StatusCode::kInternal,
                    "symbolizer returned too few frames");
    // Kernel PCs keep their runtime address, user-space ones their module
    // address (exports.h).
    const uint64_t rebase = IsKernel(m) ? m.bias : 0;
    std::string module_json;
    replaced += AppendJsonString(m.path, &module_json);
    for (size_t i = 0; i < addrs.size(); i++) {
      const uint64_t address = addrs[i] + rebase;
      if (address < kCallInstructionBytes) {
        too_low += hits[addrs[i]];
        continue;
      }
      const SourceFrames& fs = frames[i];
      for (size_t f = 0; f < fs.size(); f++) {
        out.bytes += "{\"file_path\":";
        replaced += AppendJsonString(fs[f].file, &out.bytes);
        out.bytes += ",\"func_name\":";
        replaced += AppendJsonString(fs[f].function, &out.bytes);
        // One line, from its column (0: unknown) to its end (-1, syzkaller's
        // encoding of "to the end of the line").
        out.bytes += StrPrintf(
            ",\"sl\":%u,\"sc\":%u,\"el\":%u,\"ec\":-1,\"hit_count\":%" PRIu64
            ",\"inline\":%s,\"pc\":%" PRIu64 ",\"module\":",
            fs[f].line, fs[f].column, fs[f].line, hits[addrs[i]],
            f + 1 < fs.size() ? "true" : "false",
            address - kCallInstructionBytes);
        out.bytes += module_json + "}\n";
      }
    }
  }
  if (g.outside != 0)
    out.warnings.push_back(OutsideWarning(g.outside, "jsonl"));
  if (too_low != 0)
    out.warnings.push_back(NotReturnAddressWarning(too_low, "jsonl"));
  if (replaced != 0) {
    out.warnings.push_back(StrPrintf(
        "%" PRIu64 " bytes of paths or names are not UTF-8: written as U+FFFD",
        replaced));
  }
  return out;
}

StatusOr<ExportOutput> ExportSancov(const CoverageData& data) {
  const Grouped g = GroupByModule(data);
  ExportOutput out;
  std::map<std::string, int> used;  // name -> files so named
  uint64_t too_low = 0;
  for (const ModulePcs& mp : g.modules) {
    const CoverageModule& m = data.modules[mp.module];
    std::string name = BaseName(m.path);
    if (m.kind == ModuleKind::kKernelModule) name += ".ko";
    ExportFile file;
    file.name = name + "." + std::to_string(used[name]++) + ".sancov";
    file.module = m.path;
    // The 64-bit header: bitness 0xFFFFFF64, then magic 0xC0BFFFFF, each a
    // little-endian u32 (LLVM's sancov.cpp FileHeader).
    AppendLe(&file.bytes, 0xC0BFFFFFFFFFFF64ull, 8);
    std::set<uint64_t> points;
    for (const auto& [pc, n] : mp.counts) {
      // sancov ignores 0: an address of 1 could not be written.
      if (pc - m.bias < 2) {
        too_low += n;
        continue;
      }
      points.insert(pc - m.bias - 1);
    }
    for (uint64_t a : points) AppendLe(&file.bytes, a, 8);
    file.pcs = points.size();
    out.files.push_back(std::move(file));
  }
  if (g.outside != 0)
    out.warnings.push_back(OutsideWarning(g.outside, "sancov"));
  if (too_low != 0)
    out.warnings.push_back(NotReturnAddressWarning(too_low, "sancov"));
  if (out.files.empty()) {
    out.warnings.push_back(
        "no PC lies in a module of the load map: no .sancov file written");
  }
  return out;
}

}  // namespace remcov::tool
