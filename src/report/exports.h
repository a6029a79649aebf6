// SPDX-License-Identifier: Apache-2.0
// `remcov report`'s exports to formats other tools read (docs/tools/remcov.md,
// "Exports"):
//  - Cobertura XML (coverage-04.dtd), for CI systems (GitLab, Jenkins), from
//    the source-line model;
//  - drcov version 2 (module table + binary basic-block table), for
//    Lighthouse and Binary Ninja's coverage plugins;
//  - syzkaller's raw cover (hex PCs, one a line) and JSONL (one JSON object
//    per PC and source frame, syzkaller's field names);
//  - .sancov files (LLVM's `sancov` tool: magic, then 64-bit PCs), one per
//    module.
// The PC formats work from the coverage file and its load map; only drcov
// needs the modules' files (for their image base) and only JSONL their
// debug info.
//
// Addresses. A recorded PC is the return address of a call to a coverage
// callback. Each format gets the address its consumer expects:
//  - raw cover, JSONL and drcov: the call instruction, return address minus
//    kCallInstructionBytes (syzkaller's PreviousInstructionPC: 5 on x86-64);
//  - .sancov: return address minus 1, what compiler-rt's runtime records and
//    what `sancov` takes for a coverage point on x86.
// Kernel PCs (vmlinux, kernel modules) keep their runtime addresses, as KCOV
// and syzkaller use them; user-space PCs become module addresses (minus the
// load bias), as addr2line, objdump and sancov use them.
//
// Nothing is dropped silently: what a format cannot hold is either an error
// (kInvalidArgument) or counted in ExportOutput::warnings.
//
// Thread safety: pure functions over their arguments (and the callbacks
// they are given, called from the calling thread).
#ifndef REMCOV_REPORT_EXPORTS_H_
#define REMCOV_REPORT_EXPORTS_H_

#include <stdint.h>

#include <functional>
#include <string>
#include <vector>

#include "remcov/coverage_file.h"
#include "remcov/status.h"

#include "report/coverage_model.h"

namespace remcov::tool {

// The length of the call instruction before a coverage callback's return
// address: a direct call (x86 `call rel32`, the fixed-size calls of the
// RISC targets), the values of syzkaller's pkg/cover/backend instructionLen.
#if defined(__x86_64__) || defined(__i386__)
inline constexpr uint64_t kCallInstructionBytes = 5;
#elif defined(__s390x__)
inline constexpr uint64_t kCallInstructionBytes = 6;
#elif defined(__mips__)
inline constexpr uint64_t kCallInstructionBytes = 8;
#else
inline constexpr uint64_t kCallInstructionBytes = 4;
#endif

// One file of a per-module export (.sancov).
struct ExportFile {
  std::string name;    // file name, no directory
  std::string bytes;   // its contents
  uint64_t pcs = 0;    // PCs written
  std::string module;  // the module's path in the load map
};

struct ExportOutput {
  std::string bytes;              // the export (all formats but sancov)
  std::vector<ExportFile> files;  // sancov: one per module with PCs
  // What the format could not hold, counted ("12 PCs lie outside ...").
  std::vector<std::string> warnings;
};

// What drcov needs of a module's ELF file.
struct ElfImage {
  uint64_t lowest_vaddr = 0;  // lowest PT_LOAD p_vaddr; 0 without PT_LOAD
  uint64_t entry = 0;         // e_entry (0: none)
};
// The module's image (its file found and checked like a report's).
using ModuleImageFn =
    std::function<StatusOr<ElfImage>(const CoverageModule& module)>;

struct CoberturaOptions {
  std::string root;          // <source>; class filenames relative to it
  std::string version;       // coverage/@version
  int64_t timestamp_ms = 0;  // coverage/@timestamp (ms since the epoch)
};

// Cobertura XML of the model's run 0. Lines without source and PCs outside
// every module cannot appear in it: counted in the warnings.
ExportOutput ExportCobertura(const CoverageModel& model,
                             const CoberturaOptions& options);

// drcov version 2 ("DRCOV VERSION: 2", module table version 2 with the
// columns id, base, end, entry, path, then "BB Table: N bbs" and N binary
// entries {u32 start, u16 size, u16 mod_id}). The table lists the modules
// with recorded PCs; a module's base is its bias plus its lowest PT_LOAD
// address (page-aligned), what the image base of a disassembler database
// is; each distinct PC gives one entry: the call instruction's offset from
// the base and its length. Errors: kInvalidArgument for a module path drcov
// cannot write (a newline, ", ", not UTF-8) or more than 65536 modules; the
// image function's Status.
StatusOr<ExportOutput> ExportDrcov(const CoverageData& data,
                                   const ModuleImageFn& image);

// syzkaller raw cover: "0x%x\n" per recorded PC, in recorded order with
// repeats (as syz-execprog -coverfile), each the call instruction's
// address. A file holds one address space: the kernel's (vmlinux, kernel
// modules, or no load map: PCs as recorded) or one user-space module's
// (module addresses). kInvalidArgument when the PCs span more than one.
StatusOr<ExportOutput> ExportRawcover(const CoverageData& data);

// syzkaller JSONL: one object per source frame of every instrumented site
// and recorded PC of the modules with recorded PCs, innermost frame first:
// {"file_path", "func_name", "sl", "sc", "el", "ec", "hit_count", "inline",
// "pc"} as syzkaller's pkg/cover CoverageInfo, plus "module" (the module's
// path). hit_count is how often the PC was recorded (0 for a site that was
// not), pc the call instruction's address.
StatusOr<ExportOutput> ExportJsonl(const CoverageData& data,
                                   const SourceMapOpener& open,
                                   const ModuleProgressFn& progress = {});

// .sancov files: per module with PCs, "<name>.<n>.sancov" (name: the path's
// last component, ".ko" added for kernel modules; n: 0, or 1, 2, ... when
// names collide), holding the 64-bit magic 0xC0BFFFFFFFFFFF64 and the
// distinct PCs, sorted, as module address - 1 (vmlinux: the PC - 1).
StatusOr<ExportOutput> ExportSancov(const CoverageData& data);

}  // namespace remcov::tool

#endif  // REMCOV_REPORT_EXPORTS_H_
