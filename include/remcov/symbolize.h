// SPDX-License-Identifier: Apache-2.0
// Source-level views of machine addresses, for reports (docs/symbolize.md):
//  - Symbolizer: an address of one ELF module to its source frames, inlined
//    frames first, the same answer `addr2line -f -i -e MODULE` gives
//    (elfutils' libdw underneath, batched and cached).
//  - ListInstrumentedSites: every call site of a coverage callback in a
//    module (found by disassembly), so a report knows what could have been
//    covered as well as what was.
//
// Addresses are module addresses: the ELF's own virtual addresses (for a
// PIE or shared library, runtime PC minus the load bias recorded in the
// coverage file's load map; for vmlinux, the KASLR-canonical PC as KCOV
// records it).
//
// Recorded PCs are return addresses (the instruction after the callback's
// call). Symbolize(pc) looks up pc - 1 (inside the call instruction), as
// syzkaller and the kernel's own tools do; InstrumentedSite::pc is the return
// address too, so recorded PCs and sites compare equal.
//
// Thread safety: a Symbolizer is not thread-safe (it caches); use one per
// thread. The List*Sites functions are pure functions of the file.
#ifndef REMCOV_SYMBOLIZE_H_
#define REMCOV_SYMBOLIZE_H_

#include <stdint.h>

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "remcov/export.h"
#include "remcov/status.h"

namespace remcov {

// One source frame. Unknown parts are "??" (function, file) and 0 (line), as
// addr2line prints them.
struct SourceFrame {
  std::string function;  // demangled when `demangle` was asked for
  std::string file;      // as the DWARF line table names it (comp dir joined)
  uint32_t line = 0;
  uint32_t column = 0;  // 0 when the line table has none
  bool operator==(const SourceFrame&) const = default;
};

// Frames for one address: innermost (inlined) first, the outermost (the
// function the address is in) last. Never empty: an address without debug
// info gives one frame {"??", "??", 0, 0}.
using SourceFrames = std::vector<SourceFrame>;

struct SymbolizerOptions {
  bool demangle = true;  // like addr2line -C
  bool inlines = true;   // like addr2line -i
};

// Called with (done, total) while a batch runs; may be empty.
using ProgressFn = std::function<void(size_t done, size_t total)>;

class REMCOV_EXPORT Symbolizer {
 public:
  virtual ~Symbolizer() = default;
  // Opens an ELF module with DWARF (separate debug files found through
  // .gnu_debuglink / build-id are used when present).
  static StatusOr<std::unique_ptr<Symbolizer>> Open(
      const std::string& elf_path, SymbolizerOptions options = {});

  // The frames for the return address `pc` (looks up pc - 1).
  virtual StatusOr<SourceFrames> SymbolizeReturnAddress(uint64_t pc) = 0;
  // The frames for exactly `address` (what addr2line ADDRESS prints).
  virtual StatusOr<SourceFrames> SymbolizeAddress(uint64_t address) = 0;
  // Where section `name` (e.g. ".text") lies in this symbolizer's address
  // space. For an executable, a shared library or vmlinux that is the
  // section's own address; for a relocatable object (a kernel module's .ko)
  // it is where libdwfl laid the section out, so a .text offset plus this is
  // an address the Symbolize* calls accept. kNotFound if there is no such
  // allocated section.
  virtual StatusOr<uint64_t> SectionAddress(const std::string& name) = 0;
  // Batch form of SymbolizeReturnAddress; out[i] belongs to pcs[i].
  virtual Status SymbolizeReturnAddresses(std::span<const uint64_t> pcs,
                                          std::vector<SourceFrames>* out,
                                          const ProgressFn& progress = {}) = 0;
};

enum class SiteKind : uint8_t {
  kPc,       // __sanitizer_cov_trace_pc
  kCmp,      // __sanitizer_cov_trace_{const_,}cmp{1,2,4,8}, _switch
  kPcGuard,  // __sanitizer_cov_trace_pc_guard
};

struct InstrumentedSite {
  uint64_t pc;  // return address of the call (what the callback records)
  SiteKind kind;
  bool operator==(const InstrumentedSite&) const = default;
};

// Every direct call (or call through the PLT / GOT) to a coverage callback
// in the module's executable sections, sorted by pc, no duplicates.
REMCOV_EXPORT StatusOr<std::vector<InstrumentedSite>> ListInstrumentedSites(
    const std::string& elf_path);

// PCs a callback records although they are not call sites of a callback:
// when the compiler turns a function's trailing `call callback; ret` into
// `jmp callback` (gcc -O2 does; 61 such jumps in this project's optimized
// test fixture, 2,329 in the kernel lane's vmlinux), the callback's return
// address is that of the function's caller. This lists the return address
// of every direct call to such a function, with the callback's kind; sorted
// by pc, no duplicates. A report counts these as covered-and-coverable too.
REMCOV_EXPORT StatusOr<std::vector<InstrumentedSite>> ListTailCallSites(
    const std::string& elf_path);

// Every PC a callback can record in the module: ListInstrumentedSites and
// ListTailCallSites together, from one sweep, sorted by pc, no duplicates.
REMCOV_EXPORT StatusOr<std::vector<InstrumentedSite>> ListCoverableSites(
    const std::string& elf_path);

// A direct call to a function that tail-jumps to a callback: the return
// address of the call (what the callback records, a ListTailCallSites pc)
// and the callee's tail jumps (ModuleSites::tail_jumps), sorted by pc. With
// exactly one jump the recorded PC identifies it; with several it does not.
struct TailCall {
  uint64_t pc;
  std::vector<InstrumentedSite> jumps;
};

// A module's sites as a report attributes them (docs/symbolize.md, "Tail
// jumps"), from one sweep:
//  - calls: ListInstrumentedSites.
//  - tail_jumps: every `jmp callback`, its pc the address after the jump
//    (like a call site's return address, so looking up pc - 1 gives the
//    jump's own line). They are instrumented sites, never recorded as such.
//  - tail_calls: every direct call to a function holding tail jumps.
// Each list sorted by pc, no duplicates. Relocatable objects (.ko, .o) have
// calls only: their tail jumps are not listed.
struct ModuleSites {
  std::vector<InstrumentedSite> calls;
  std::vector<InstrumentedSite> tail_jumps;
  std::vector<TailCall> tail_calls;
};
REMCOV_EXPORT StatusOr<ModuleSites> ListModuleSites(
    const std::string& elf_path);

}  // namespace remcov

#endif  // REMCOV_SYMBOLIZE_H_
