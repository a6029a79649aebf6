// SPDX-License-Identifier: Apache-2.0
// remcov::ListInstrumentedSites: the calls to coverage callbacks in an x86-64
// ELF module, found by disassembling its executable sections with capstone.
//
// Call targets are resolved three ways: a defined callback symbol (the static
// runtime, vmlinux), a PLT stub whose GOT slot the dynamic relocations bind to
// a callback (.plt / .plt.sec / .plt.got), or a GOT slot called directly
// (-fno-plt: `call *sym@GOTPCREL(%rip)`). Decoding restarts at every symbol
// start, as objdump does, so a stray byte sequence cannot desynchronise more
// than one function.
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "remcov/symbolize.h"

#include <capstone/capstone.h>

namespace remcov {
namespace {

std::optional<SiteKind> CallbackKind(std::string_view name) {
  const size_t at = name.find('@');  // symbol versions, @plt
  if (at != std::string_view::npos) name = name.substr(0, at);
  // remcov's runtime also exports each callback as __remcov_cov_trace_*
  // (an alias at the same address, for objects renamed to link next to
  // libFuzzer: docs/fuzzing.md), and trace_pc also as
  // __remcov_cov_trace_pc_counting (its counters-mode entry, which the
  // libFuzzer helper renames trace_pc calls to); a call to any is a site.
  constexpr std::string_view kPrefix = "__sanitizer_cov_trace_";
  constexpr std::string_view kAliasPrefix = "__remcov_cov_trace_";
  if (name.substr(0, kPrefix.size()) == kPrefix) {
    name.remove_prefix(kPrefix.size());
  } else if (name.substr(0, kAliasPrefix.size()) == kAliasPrefix) {
    name.remove_prefix(kAliasPrefix.size());
  } else {
    return std::nullopt;
  }
  if (name == "pc" || name == "pc_counting") return SiteKind::kPc;
  if (name == "pc_guard") return SiteKind::kPcGuard;
  if (name == "switch") return SiteKind::kCmp;
  if (name.substr(0, 6) == "const_") name.remove_prefix(6);
  if (name == "cmp1" || name == "cmp2" || name == "cmp4" || name == "cmp8") {
    return SiteKind::kCmp;
  }
  return std::nullopt;
}

struct ScnInfo {
  Elf_Scn* scn;
  GElf_Shdr shdr;
  std::string name;
};

// A relocation section's entries and the symbol table they refer to.
struct RelaTables {
  Elf_Data* relocations = nullptr;
  Elf_Data* symbols = nullptr;
  GElf_Shdr symtab_shdr{};
};

// Reads them for s; false when s is not an SHT_RELA section with entries or
// either table cannot be read.
bool ReadRelaTables(Elf* elf, const ScnInfo& s, RelaTables* t) {
  if (s.shdr.sh_type != SHT_RELA || s.shdr.sh_entsize == 0) return false;
  Elf_Scn* symscn = elf_getscn(elf, s.shdr.sh_link);
  if (symscn == nullptr || gelf_getshdr(symscn, &t->symtab_shdr) == nullptr)
    return false;
  t->symbols = elf_getdata(symscn, nullptr);
  t->relocations = elf_getdata(s.scn, nullptr);
  return t->symbols != nullptr && t->relocations != nullptr;
}

// Closes the descriptor and the libelf handle on every path.
class ElfFile {
 public:
  ~ElfFile() {
    if (elf_ != nullptr) elf_end(elf_);
    if (fd_ >= 0) close(fd_);
  }
  Status Open(const std::string& path) {
    fd_ = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) return Status::FromErrno(errno, "sites: cannot open " + path);
    elf_version(EV_CURRENT);
    elf_ = elf_begin(fd_, ELF_C_READ_MMAP, nullptr);
    if (elf_ == nullptr || elf_kind(elf_) != ELF_K_ELF) {
      return Status(StatusCode::kInvalidArgument,
                    "sites: " + path + " is not an ELF file");
    }
    return Status::Ok();
  }
  Elf* elf() const { return elf_; }

 private:
  int fd_ = -1;
  Elf* elf_ = nullptr;
};

class CapstoneHandle {
 public:
  ~CapstoneHandle() {
    if (insn_ != nullptr) cs_free(insn_, 1);
    if (open_) cs_close(&handle_);
  }
  bool Open() {
    open_ = cs_open(CS_ARCH_X86, CS_MODE_64, &handle_) == CS_ERR_OK;
    if (open_) insn_ = cs_malloc(handle_);
    return open_ && insn_ != nullptr;
  }
  csh handle() const { return handle_; }
  cs_insn* insn() const { return insn_; }

 private:
  csh handle_ = 0;
  bool open_ = false;
  cs_insn* insn_ = nullptr;
};

// The target of a direct call (E8 rel32) or the GOT slot of an indirect
// RIP-relative call (FF /2, ModRM 0x15), from the instruction bytes.
// Prefixes (bnd, notrack, addr32 from linker relaxation, REX) are skipped.
struct CallTarget {
  bool via_slot;
  uint64_t address;
};
// After the prefixes is_prefix accepts: rel_op rel32, or FF with ModRM byte
// `modrm` (RIP-relative slot).
template <class IsPrefix>
std::optional<CallTarget> DecodeBranch(const cs_insn& insn, IsPrefix is_prefix,
                                       uint8_t rel_op, uint8_t modrm) {
  const uint8_t* b = insn.bytes;
  size_t i = 0;
  while (i < insn.size && is_prefix(b[i])) ++i;
  const uint64_t next = insn.address + insn.size;
  int32_t rel = 0;
  if (i + 5 == insn.size && b[i] == rel_op) {
    memcpy(&rel, b + i + 1, 4);
    return CallTarget{false, next + static_cast<uint64_t>(int64_t{rel})};
  }
  if (i + 6 == insn.size && b[i] == 0xff && b[i + 1] == modrm) {
    memcpy(&rel, b + i + 2, 4);
    return CallTarget{true, next + static_cast<uint64_t>(int64_t{rel})};
  }
  return std::nullopt;
}

std::optional<CallTarget> DecodeCall(const cs_insn& insn) {
  return DecodeBranch(
      insn,
      [](uint8_t c) {
        return c == 0x66 || c == 0x67 || c == 0xf2 || c == 0xf3 || c == 0x2e ||
               c == 0x3e || c == 0x26 || c == 0x36 || c == 0x64 || c == 0x65 ||
               (c & 0xf0) == 0x40;
      },
      0xe8, 0x15);
}

// A tail jump: E9 rel32, or FF /4 through a RIP-relative slot.
std::optional<CallTarget> DecodeJump(const cs_insn& insn) {
  return DecodeBranch(
      insn,
      [](uint8_t c) {
        return c == 0xf2 || c == 0x3e || c == 0x2e || (c & 0xf0) == 0x40;
      },
      0xe9, 0x25);
}

}  // namespace

namespace {

// Both lists in one sweep: the call sites of callbacks, and (tail_sites) the
// return addresses of direct calls to functions that jump to a callback.
// A relocatable object (a kernel module's .ko, or a .o): a call to a
// callback is `call rel32` (0xe8) whose displacement is relocated
// (R_X86_64_PLT32 or PC32, addend -4) against the callback's symbol; the
// disassembly alone cannot tell, every such call reads `call .+5`. Sites are
// listed in .text only, as offsets from its start (.text's load address is
// the bias `remcov trace` records for a module); the other executable
// sections (.init.text, .exit.text) are laid out elsewhere at load time.
// Tail jumps (0xe9) to a callback are not listed (ModuleSites).
Status ScanRelocatable(Elf* elf, const std::vector<ScnInfo>& scns,
                       std::vector<InstrumentedSite>* sites) {
  size_t text = 0;
  const ScnInfo* text_scn = nullptr;
  for (const ScnInfo& s : scns) {
    if (s.name == ".text" && s.shdr.sh_type == SHT_PROGBITS) {
      text = elf_ndxscn(s.scn);
      text_scn = &s;
    }
  }
  if (text_scn == nullptr) return Status::Ok();
  Elf_Data* code = elf_rawdata(text_scn->scn, nullptr);
  if (code == nullptr || code->d_buf == nullptr) return Status::Ok();
  const auto* bytes = static_cast<const uint8_t*>(code->d_buf);
  const uint64_t size =
      std::min<uint64_t>(code->d_size, text_scn->shdr.sh_size);
  for (const ScnInfo& s : scns) {
    RelaTables t;
    if (s.shdr.sh_info != text || !ReadRelaTables(elf, s, &t)) continue;
    Elf_Data* symdata = t.symbols;
    Elf_Data* data = t.relocations;
    const GElf_Shdr& symshdr = t.symtab_shdr;
    const size_t n = s.shdr.sh_size / s.shdr.sh_entsize;
    for (size_t i = 0; i < n; ++i) {
      GElf_Rela rela;
      if (gelf_getrela(data, static_cast<int>(i), &rela) == nullptr) continue;
      const uint64_t type = GELF_R_TYPE(rela.r_info);
      if ((type != R_X86_64_PLT32 && type != R_X86_64_PC32) ||
          rela.r_addend != -4 || rela.r_offset == 0 ||
          rela.r_offset + 4 > size || bytes[rela.r_offset - 1] != 0xe8)
        continue;
      GElf_Sym sym;
      if (gelf_getsym(symdata, static_cast<int>(GELF_R_SYM(rela.r_info)),
                      &sym) == nullptr)
        continue;
      const char* name = elf_strptr(elf, symshdr.sh_link, sym.st_name);
      if (name == nullptr) continue;
      if (auto kind = CallbackKind(name))
        sites->push_back({rela.r_offset + 4, *kind});
    }
  }
  return Status::Ok();
}

Status Scan(const std::string& elf_path, ModuleSites* out) {
  std::vector<InstrumentedSite>* sites = &out->calls;
  ElfFile file;
  REMCOV_RETURN_IF_ERROR(file.Open(elf_path));
  Elf* elf = file.elf();
  GElf_Ehdr ehdr;
  if (gelf_getehdr(elf, &ehdr) == nullptr) {
    return Status(StatusCode::kDataLoss,
                  "sites: " + elf_path + ": unreadable ELF header");
  }
  if (ehdr.e_machine != EM_X86_64 || ehdr.e_ident[EI_CLASS] != ELFCLASS64) {
    return Status(StatusCode::kUnimplemented,
                  "sites: " + elf_path +
                      ": only x86-64 ELF is supported (e_machine " +
                      std::to_string(ehdr.e_machine) + ")");
  }
  size_t shstrndx = 0;
  if (elf_getshdrstrndx(elf, &shstrndx) != 0) {
    return Status(StatusCode::kDataLoss,
                  "sites: " + elf_path + ": no section name table");
  }
  std::vector<ScnInfo> scns;
  for (Elf_Scn* scn = elf_nextscn(elf, nullptr); scn != nullptr;
       scn = elf_nextscn(elf, scn)) {
    ScnInfo s{scn, {}, {}};
    if (gelf_getshdr(scn, &s.shdr) == nullptr) continue;
    const char* name = elf_strptr(elf, shstrndx, s.shdr.sh_name);
    s.name = name != nullptr ? name : "";
    scns.push_back(std::move(s));
  }

  if (ehdr.e_type == ET_REL) return ScanRelocatable(elf, scns, sites);

  // Call targets that are callbacks, and GOT slots bound to callbacks.
  std::unordered_map<uint64_t, SiteKind> targets;
  std::unordered_map<uint64_t, SiteKind> slots;
  // Symbol starts per section index: where decoding resynchronises.
  std::unordered_map<size_t, std::vector<uint64_t>> sync;
  for (const ScnInfo& s : scns) {
    if (s.shdr.sh_type != SHT_SYMTAB && s.shdr.sh_type != SHT_DYNSYM) continue;
    Elf_Data* data = elf_getdata(s.scn, nullptr);
    if (data == nullptr || s.shdr.sh_entsize == 0) continue;
    const size_t n = s.shdr.sh_size / s.shdr.sh_entsize;
    for (size_t i = 1; i < n; ++i) {
      GElf_Sym sym;
      if (gelf_getsym(data, static_cast<int>(i), &sym) == nullptr) continue;
      if (sym.st_shndx == SHN_UNDEF || sym.st_shndx >= SHN_LORESERVE) continue;
      const int type = GELF_ST_TYPE(sym.st_info);
      if (type == STT_SECTION || type == STT_FILE || type == STT_OBJECT ||
          type == STT_TLS) {
        continue;
      }
      sync[sym.st_shndx].push_back(sym.st_value);
      const char* name = elf_strptr(elf, s.shdr.sh_link, sym.st_name);
      if (name == nullptr) continue;
      if (auto kind = CallbackKind(name)) targets[sym.st_value] = *kind;
    }
  }
  for (const ScnInfo& s : scns) {
    RelaTables t;
    if (!ReadRelaTables(elf, s, &t)) continue;
    Elf_Data* symdata = t.symbols;
    Elf_Data* data = t.relocations;
    const GElf_Shdr& symshdr = t.symtab_shdr;
    // Only dynamic relocations (relocatable objects are not modules).
    if ((s.shdr.sh_flags & SHF_ALLOC) == 0) continue;
    const size_t n = s.shdr.sh_size / s.shdr.sh_entsize;
    for (size_t i = 0; i < n; ++i) {
      GElf_Rela rela;
      if (gelf_getrela(data, static_cast<int>(i), &rela) == nullptr) continue;
      const uint64_t type = GELF_R_TYPE(rela.r_info);
      if (type == R_X86_64_RELATIVE) {
        // A static link of -fno-plt code without relaxation: the slot holds
        // the callback's address.
        auto it = targets.find(static_cast<uint64_t>(rela.r_addend));
        if (it != targets.end()) slots[rela.r_offset] = it->second;
        continue;
      }
      if (type != R_X86_64_JUMP_SLOT && type != R_X86_64_GLOB_DAT &&
          type != R_X86_64_64) {
        continue;
      }
      GElf_Sym sym;
      if (gelf_getsym(symdata, static_cast<int>(GELF_R_SYM(rela.r_info)),
                      &sym) == nullptr) {
        continue;
      }
      const char* name = elf_strptr(elf, symshdr.sh_link, sym.st_name);
      if (name == nullptr) continue;
      if (auto kind = CallbackKind(name)) slots[rela.r_offset] = *kind;
    }
  }

  CapstoneHandle cs;
  if (!cs.Open()) {
    return Status(StatusCode::kInternal, "sites: capstone cannot open x86-64");
  }
  cs_option(cs.handle(), CS_OPT_DETAIL, CS_OPT_OFF);
  cs_insn* insn = cs.insn();

  auto is_plt = [](const std::string& name) {
    return name == ".plt" || name == ".plt.sec" || name == ".plt.got" ||
           name == ".iplt";
  };
  auto section_bytes = [](const ScnInfo& s) -> const uint8_t* {
    Elf_Data* data = elf_rawdata(s.scn, nullptr);
    if (data == nullptr || data->d_buf == nullptr ||
        data->d_size < s.shdr.sh_size) {
      return nullptr;
    }
    return static_cast<const uint8_t*>(data->d_buf);
  };
  auto executable = [](const ScnInfo& s) {
    return s.shdr.sh_type == SHT_PROGBITS &&
           (s.shdr.sh_flags & SHF_EXECINSTR) != 0 && s.shdr.sh_size != 0;
  };

  // PLT stubs: the entry (its endbr64, when it has one) of every stub that
  // jumps through a slot bound to a callback.
  if (!slots.empty()) {
    for (const ScnInfo& s : scns) {
      if (!executable(s) || !is_plt(s.name)) continue;
      const uint8_t* code = section_bytes(s);
      if (code == nullptr) continue;
      size_t size = s.shdr.sh_size;
      uint64_t address = s.shdr.sh_addr;
      uint64_t prev_endbr = ~uint64_t{0};
      while (size > 0) {
        const uint64_t at = address;
        if (!cs_disasm_iter(cs.handle(), &code, &size, &address, insn)) {
          ++code;
          --size;
          ++address;
          continue;
        }
        if (insn->id == X86_INS_ENDBR64) {
          prev_endbr = at;
          continue;
        }
        if (auto jump = DecodeJump(*insn); jump && jump->via_slot) {
          auto it = slots.find(jump->address);
          if (it != slots.end()) {
            targets[at] = it->second;
            if (prev_endbr + 4 == at) targets[prev_endbr] = it->second;
          }
        }
      }
    }
  }

  if (targets.empty() && slots.empty()) return Status::Ok();
  // For tail jumps: each function's (decoding region's) jumps to a
  // callback, and every direct call (return address, target).
  std::unordered_map<uint64_t, std::vector<InstrumentedSite>> tail_functions;
  std::vector<std::pair<uint64_t, uint64_t>> calls;
  for (size_t index = 0; index < scns.size(); ++index) {
    const ScnInfo& s = scns[index];
    if (!executable(s) || is_plt(s.name)) continue;
    const uint8_t* base = section_bytes(s);
    if (base == nullptr) continue;
    const uint64_t lo = s.shdr.sh_addr;
    const uint64_t hi = lo + s.shdr.sh_size;
    std::vector<uint64_t> starts = {lo};
    auto it = sync.find(elf_ndxscn(s.scn));
    if (it != sync.end()) {
      for (uint64_t a : it->second) {
        if (a > lo && a < hi) starts.push_back(a);
      }
    }
    std::sort(starts.begin(), starts.end());
    starts.erase(std::unique(starts.begin(), starts.end()), starts.end());
    for (size_t r = 0; r < starts.size(); ++r) {
      uint64_t address = starts[r];
      const uint64_t end = r + 1 < starts.size() ? starts[r + 1] : hi;
      const uint8_t* code = base + (address - lo);
      size_t size = end - address;
      while (size > 0) {
        if (!cs_disasm_iter(cs.handle(), &code, &size, &address, insn)) {
          ++code;  // undecodable byte: skip it, as objdump's "(bad)"
          --size;
          ++address;
          continue;
        }
        if (insn->id == X86_INS_JMP) {
          // gcc -O2 turns a trailing `call callback; ret` into `jmp
          // callback`: the callback then records the caller's return address.
          auto jump = DecodeJump(*insn);
          if (!jump) continue;
          const auto& map = jump->via_slot ? slots : targets;
          auto hit = map.find(jump->address);
          if (hit != map.end()) {
            const InstrumentedSite site{insn->address + insn->size,
                                        hit->second};
            tail_functions[starts[r]].push_back(site);
            out->tail_jumps.push_back(site);
          }
          continue;
        }
        if (insn->id != X86_INS_CALL) continue;
        auto call = DecodeCall(*insn);
        if (!call) continue;
        const auto& map = call->via_slot ? slots : targets;
        auto hit = map.find(call->address);
        if (hit == map.end()) {
          if (!call->via_slot) {
            calls.emplace_back(insn->address + insn->size, call->address);
          }
          continue;
        }
        sites->push_back({insn->address + insn->size, hit->second});
      }
    }
  }
  for (const auto& [ret, target] : calls) {
    auto it = tail_functions.find(target);
    if (it != tail_functions.end())
      out->tail_calls.push_back({ret, it->second});
  }
  return Status::Ok();
}

void SortUnique(std::vector<InstrumentedSite>* v) {
  std::sort(v->begin(), v->end(),
            [](const InstrumentedSite& a, const InstrumentedSite& b) {
              return a.pc < b.pc;
            });
  v->erase(std::unique(v->begin(), v->end(),
                       [](const InstrumentedSite& a,
                          const InstrumentedSite& b) { return a.pc == b.pc; }),
           v->end());
}

// One sweep of the module, each list sorted, each pc once.
StatusOr<ModuleSites> Sweep(const std::string& elf_path) {
  ModuleSites m;
  REMCOV_RETURN_IF_ERROR(Scan(elf_path, &m));
  SortUnique(&m.calls);
  SortUnique(&m.tail_jumps);
  std::sort(m.tail_calls.begin(), m.tail_calls.end(),
            [](const TailCall& a, const TailCall& b) { return a.pc < b.pc; });
  m.tail_calls.erase(std::unique(m.tail_calls.begin(), m.tail_calls.end(),
                                 [](const TailCall& a, const TailCall& b) {
                                   return a.pc == b.pc;
                                 }),
                     m.tail_calls.end());
  for (TailCall& c : m.tail_calls) SortUnique(&c.jumps);
  return m;
}

// The calls to the callbacks, the return addresses of calls to functions
// that tail-jump to them (with the kind of the function's first jump), or
// both; sorted, each once.
StatusOr<std::vector<InstrumentedSite>> Sites(const std::string& elf_path,
                                              bool calls, bool tail_calls) {
  auto m = Sweep(elf_path);
  if (!m.ok()) return m.status();
  std::vector<InstrumentedSite> sites;
  if (calls) sites = std::move(m->calls);
  if (tail_calls) {
    for (const TailCall& c : m->tail_calls)
      sites.push_back({c.pc, c.jumps.front().kind});
  }
  SortUnique(&sites);
  return sites;
}

}  // namespace

StatusOr<std::vector<InstrumentedSite>> ListInstrumentedSites(
    const std::string& elf_path) {
  return Sites(elf_path, true, false);
}

StatusOr<std::vector<InstrumentedSite>> ListTailCallSites(
    const std::string& elf_path) {
  return Sites(elf_path, false, true);
}

StatusOr<std::vector<InstrumentedSite>> ListCoverableSites(
    const std::string& elf_path) {
  return Sites(elf_path, true, true);
}

StatusOr<ModuleSites> ListModuleSites(const std::string& elf_path) {
  return Sweep(elf_path);
}

}  // namespace remcov
