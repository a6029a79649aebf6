// SPDX-License-Identifier: Apache-2.0
// Finding, checking and opening the files of a run's modules
// (report/module_files.h).
#include "report/module_files.h"

#include <sys/stat.h>

#include <span>
#include <utility>
#include <vector>

#include "remcov/symbolize.h"

#include "format/elf_build_id.h"

namespace remcov::tool {
namespace {

// A module's source view: the libdw Symbolizer and the disassembled sites.
// `rebase` is added to module addresses before they are symbolized: 0, but
// for a kernel module (.ko, ET_REL) the address libdwfl laid .text out at,
// since module addresses (and the sites) are offsets into .text there.
class ElfSourceMap : public SourceMap {
 public:
  ElfSourceMap(std::string path, std::unique_ptr<Symbolizer> s,
               uint64_t rebase = 0)
      : path_(std::move(path)), symbolizer_(std::move(s)), rebase_(rebase) {}
  StatusOr<SiteSet> Sites(TraceMode mode) override {
    // The call sites, the tail jumps, and the return addresses a tail jump
    // makes the callback record (docs/symbolize.md, "Tail jumps").
    auto sites = ListModuleSites(path_);
    if (!sites.ok()) return sites.status();
    // A PC is recorded by __sanitizer_cov_trace_pc and, in remcov's runtime,
    // by __sanitizer_cov_trace_pc_guard too (clang's trace-pc-guard).
    auto in_mode = [mode](const InstrumentedSite& s) {
      const bool pc = s.kind == SiteKind::kPc || s.kind == SiteKind::kPcGuard;
      return pc == (mode == TraceMode::kPc);
    };
    SiteSet out;
    for (const InstrumentedSite& s : sites->calls)
      if (in_mode(s)) out.sites.push_back(s.pc);
    for (const InstrumentedSite& s : sites->tail_jumps)
      if (in_mode(s)) out.sites.push_back(s.pc);
    for (const TailCall& call : sites->tail_calls) {
      std::vector<uint64_t> jumps;
      for (const InstrumentedSite& j : call.jumps)
        if (in_mode(j)) jumps.push_back(j.pc);
      if (jumps.size() == 1)
        out.tail_calls.emplace(call.pc, jumps[0]);
      else if (jumps.size() > 1)
        out.ambiguous_tail_calls.push_back(call.pc);
    }
    return out;
  }
  Status Symbolize(std::span<const uint64_t> pcs,
                   std::vector<SourceFrames>* out,
                   const ProgressFn& progress) override {
    if (rebase_ == 0)
      return symbolizer_->SymbolizeReturnAddresses(pcs, out, progress);
    std::vector<uint64_t> moved(pcs.begin(), pcs.end());
    for (uint64_t& pc : moved) pc += rebase_;
    return symbolizer_->SymbolizeReturnAddresses(moved, out, progress);
  }

 private:
  std::string path_;
  std::unique_ptr<Symbolizer> symbolizer_;
  uint64_t rebase_;
};

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

}  // namespace

StatusOr<std::string> ModuleFile(const ModuleFiles& o, const CoverageModule& m,
                                 MissingInput* missing) {
  MissingInput ignored;
  if (missing == nullptr) missing = &ignored;
  *missing = MissingInput::kNone;
  switch (m.kind) {
    case ModuleKind::kUser:
      if (!Exists(m.path)) {
        return Status(StatusCode::kNotFound,
                      "module " + m.path + " (from the load map) is missing");
      }
      return m.path;
    case ModuleKind::kKernel:
      if (o.vmlinux.empty()) {
        *missing = MissingInput::kNoVmlinux;
        return Status(StatusCode::kNotFound,
                      "the coverage has kernel PCs and no kernel image "
                      "(vmlinux with DWARF) was given");
      }
      if (!Exists(o.vmlinux)) {
        *missing = MissingInput::kVmlinuxAbsent;
        return Status(StatusCode::kNotFound,
                      "kernel image " + o.vmlinux + " does not exist");
      }
      return o.vmlinux;
    case ModuleKind::kKernelModule: {
      if (o.module_dir.empty()) {
        *missing = MissingInput::kNoModuleDir;
        return Status(StatusCode::kNotFound,
                      "the coverage has PCs of kernel module " + m.path +
                          " and no directory with " + m.path + ".ko was given");
      }
      std::string dashed = m.path;
      for (char& c : dashed)
        if (c == '_') c = '-';
      for (const std::string& name : {m.path, dashed}) {
        std::string p = o.module_dir + "/" + name + ".ko";
        if (Exists(p)) return p;
      }
      *missing = MissingInput::kModuleNotInDir;
      return Status(StatusCode::kNotFound, "kernel module " + m.path + ": no " +
                                               m.path + ".ko in " +
                                               o.module_dir);
    }
  }
  return Status(StatusCode::kInternal, "unknown module kind");
}

StatusOr<std::string> CheckedModuleFile(const ModuleFiles& o,
                                        const CoverageModule& m,
                                        MissingInput* missing) {
  auto file = ModuleFile(o, m, missing);
  if (!file.ok()) return file.status();
  if (!m.build_id.empty()) {
    auto id = ReadBuildId(*file);
    if (!id.ok()) return id.status();
    if (*id != m.build_id) {
      return Status(StatusCode::kFailedPrecondition,
                    "module " + *file + " changed since the run: build-id " +
                        (id->empty() ? std::string("none") : *id) +
                        " on disk, " + m.build_id + " recorded");
    }
  }
  return file;
}

StatusOr<std::unique_ptr<SourceMap>> OpenModule(const ModuleFiles& o,
                                                const CoverageModule& m,
                                                MissingInput* missing) {
  auto file = CheckedModuleFile(o, m, missing);
  if (!file.ok()) return file.status();
  auto sym = Symbolizer::Open(*file);
  if (!sym.ok()) {
    return Status(sym.status().code(), *file + ": " + sym.status().message(),
                  sym.status().error_number());
  }
  uint64_t rebase = 0;
  if (m.kind == ModuleKind::kKernelModule) {
    auto text = (*sym)->SectionAddress(".text");
    if (!text.ok()) {
      return Status(StatusCode::kNotFound,
                    *file + ": " + text.status().message());
    }
    rebase = *text;
  }
  std::unique_ptr<SourceMap> map =
      std::make_unique<ElfSourceMap>(*file, std::move(sym.value()), rebase);
  return map;
}

}  // namespace remcov::tool
