// SPDX-License-Identifier: Apache-2.0
// remcov::Symbolizer over elfutils: libdwfl finds the module and its debug
// file, libdw reads DIEs and line tables, and this file answers lookups the
// way binutils' addr2line (BFD's dwarf2.c) does, so `remcov report` and
// `addr2line -f -i -C` agree frame for frame (docs/symbolize.md).
//
// Why not dwfl_module_getsrc + dwarf_getscopes: dwarf_getscopes walks the
// CU's DIE tree from the root on every call (a 100k-DIE C++ CU per address),
// and BFD's choices (the smallest enclosing function range wins, the symbol
// table names C functions) differ from libdw's. Instead each CU is indexed
// once, on first use: its line rows (libdw keeps them sorted) and a flat map
// of elementary address segments to the innermost function DIE.
#include <cxxabi.h>
#if REMCOV_HAVE_LIBIBERTY
// From <libiberty/demangle.h>, which cannot be included next to <string.h>
// in C++ (it redeclares basename). Values are libiberty's stable ABI.
extern "C" char* cplus_demangle(const char* mangled, int options);
#define REMCOV_INTERNAL_DMGL_PARAMS (1 << 0)
#define REMCOV_INTERNAL_DMGL_ANSI (1 << 1)
#endif
#include <dwarf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "remcov/symbolize.h"

#include "symbolize/symbolizer_internal.h"
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>

namespace remcov {
namespace symbolize_internal {
namespace {

constexpr const char* kUnknown = "??";

// A function DIE: DW_TAG_subprogram, _inlined_subroutine or _entry_point.
struct Func {
  Dwarf_Off die = 0;
  int32_t parent = -1;  // nearest enclosing function DIE (inlined only)
  uint32_t call_file = 0;
  uint32_t call_line = 0;
  uint32_t call_column = 0;
  uint64_t low = 0;  // first range's start (BFD's func->arange.low)
  bool inlined = false;
  bool c_like = false;  // of its CU
  bool has_range = false;
  bool named = false;  // name/is_linkage resolved
  bool is_linkage = false;
  std::string name;  // raw (mangled when is_linkage)
  // BFD's history (bfd_history_ only): its funcinfo name and is_linkage
  // after earlier lookups.
  bool bfd_checked = false;
  std::string bfd_name;
};

struct Cu {
  Dwarf_Off die = 0;
  bool loaded = false;
  std::string comp_dir;
  uint16_t version = 0;
  // Languages BFD does not demangle (mangle_style() == 0: C, Fortran,
  // assembler...): there a DW_AT_name counts as a linkage name.
  bool c_like = false;
  Dwarf_Files* files = nullptr;
  size_t nfiles = 0;
  std::vector<std::string> file_names;  // by file index, "" = not computed
  std::vector<bool> file_done;
  // Line rows in libdw's order (by address, stable; an end_sequence row
  // precedes a normal row at the same address).
  std::vector<uint64_t> row_addr;
  std::vector<Dwarf_Line*> rows;
  std::vector<Func> funcs;
  // Elementary segments: [seg_start[i], seg_start[i+1]) -> seg_func[i].
  std::vector<uint64_t> seg_start;
  std::vector<int32_t> seg_func;
};

struct CuRange {
  uint64_t lo;
  uint64_t hi;
  uint32_t cu;
};

struct ElfSym {
  uint64_t value;
  uint64_t size;  // st_size, or 1 when 0 (BFD: "do not return 0")
  uint32_t shndx;
  uint32_t order;  // index in the symbol table
  uint8_t type;
  uint8_t bind;
  const char* name;
  const char* file;  // STT_FILE BFD would name with it, or null
};

struct Section {
  uint64_t addr;
  uint64_t size;
  uint32_t index;
};

// binutils' bfd_demangle: leading '.'/'$' and an "@..." suffix (@plt,
// symbol versions) are kept around the demangled core. libiberty's
// cplus_demangle is the demangler addr2line itself uses; libstdc++ 12's
// __cxa_demangle is older and fails on e.g. generic lambdas
// ("{lambda((auto:1&&)...)#1}"), and also demangles bare type names ("f" ->
// "float"), which addr2line does not.
std::string Demangle(const std::string& name) {
  size_t begin = 0;
  while (begin < name.size() && (name[begin] == '.' || name[begin] == '$')) {
    ++begin;
  }
  size_t at = name.find('@', begin);
  if (at == std::string::npos) at = name.size();
  const std::string core = name.substr(begin, at - begin);
#if REMCOV_HAVE_LIBIBERTY
  char* d = cplus_demangle(
      core.c_str(), REMCOV_INTERNAL_DMGL_PARAMS | REMCOV_INTERNAL_DMGL_ANSI);
#else
  if (core.size() < 2 || core[0] != '_' || core[1] != 'Z') return name;
  int status = 0;
  char* d = abi::__cxa_demangle(core.c_str(), nullptr, nullptr, &status);
#endif
  if (d == nullptr) return name;
  std::string out = name.substr(0, begin);
  out += d;
  out += name.substr(at);
  free(d);
  return out;
}

class DwSymbolizer final : public Symbolizer {
 public:
  DwSymbolizer(SymbolizerOptions options, bool bfd_history)
      : options_(options), bfd_history_(bfd_history) {}
  ~DwSymbolizer() override {
    if (dwfl_ != nullptr) dwfl_end(dwfl_);
  }

  Status Init(const std::string& path);

  StatusOr<SourceFrames> SymbolizeReturnAddress(uint64_t pc) override {
    return SymbolizeAddress(pc == 0 ? 0 : pc - 1);
  }
  StatusOr<SourceFrames> SymbolizeAddress(uint64_t address) override {
    auto it = cache_.find(address);
    if (it != cache_.end()) return it->second;
    SourceFrames frames = Lookup(address);
    cache_.emplace(address, frames);
    return frames;
  }
  Status SymbolizeReturnAddresses(std::span<const uint64_t> pcs,
                                  std::vector<SourceFrames>* out,
                                  const ProgressFn& progress) override;
  StatusOr<uint64_t> SectionAddress(const std::string& name) override;
  size_t CusCovering(uint64_t address) const;
  bool DefaultFileRow(uint64_t address, std::string* file0);

 private:
  SourceFrames Lookup(uint64_t address);
  int FindCu(uint64_t address) const;
  void BuildCuSegments();
  void LoadCu(Cu& cu);
  void ScanFunctions(Cu& cu, Dwarf_Die* parent, int32_t enclosing,
                     uint32_t* order, std::vector<uint32_t>* orders);
  void BuildSegments(Cu& cu, const std::vector<uint32_t>& orders);
  int32_t FindFunc(const Cu& cu, uint64_t address) const;
  Dwarf_Line* FindRow(const Cu& cu, uint64_t address) const;
  const std::string& FileName(Cu& cu, size_t index);
  const std::string& FuncName(Func& f);
  const ElfSym* FindSymbol(uint64_t address) const;
  std::string FrameName(Func& f);
  std::string InnermostName(Func& f, uint64_t address);
  const Section* FindSection(uint64_t address) const;
  // Demangled once per distinct name: libiberty tries the Rust and C++
  // demanglers on every call, a quarter of the profile before this cache.
  const std::string& Shown(const std::string& raw) {
    if (!options_.demangle) return raw;
    auto it = demangled_.find(raw);
    if (it == demangled_.end())
      it = demangled_.emplace(raw, Demangle(raw)).first;
    return it->second;
  }

  SymbolizerOptions options_;
  const bool bfd_history_;
  Dwfl* dwfl_ = nullptr;
  Dwfl_Module* mod_ = nullptr;
  Dwarf* dwarf_ = nullptr;
  std::vector<Cu> cus_;
  std::vector<CuRange> cu_ranges_;
  std::vector<uint64_t>
      cu_seg_start_;               // [start[i], start[i+1]) -> cu_seg_cu_[i]
  std::vector<int> cu_seg_cu_;     // -1: no CU
  std::vector<Section> sections_;  // SHF_ALLOC, in section order
  std::vector<ElfSym> syms_;       // by (value, order)
  std::unordered_map<uint64_t, SourceFrames> cache_;
  std::unordered_map<std::string, std::string> demangled_;
};

const Dwfl_Callbacks kOfflineCallbacks = {
    .find_elf = dwfl_build_id_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .section_address = dwfl_offline_section_address,
    .debuginfo_path = nullptr,
};

StatusOr<uint64_t> DwSymbolizer::SectionAddress(const std::string& name) {
  GElf_Addr elf_bias = 0;
  Elf* elf = dwfl_module_getelf(mod_, &elf_bias);
  size_t shstrndx = 0;
  if (elf == nullptr || elf_getshdrstrndx(elf, &shstrndx) != 0)
    return Status(StatusCode::kDataLoss, "symbolize: no section name table");
  for (Elf_Scn* scn = elf_nextscn(elf, nullptr); scn != nullptr;
       scn = elf_nextscn(elf, scn)) {
    GElf_Shdr sh;
    if (gelf_getshdr(scn, &sh) == nullptr || (sh.sh_flags & SHF_ALLOC) == 0)
      continue;
    const char* n = elf_strptr(elf, shstrndx, sh.sh_name);
    if (n != nullptr && name == n) return sh.sh_addr - elf_bias;
  }
  return Status(StatusCode::kNotFound,
                "symbolize: no allocated section " + name);
}

Status DwSymbolizer::Init(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    return Status::FromErrno(errno, "symbolize: cannot open " + path);
  }
  dwfl_ = dwfl_begin(&kOfflineCallbacks);
  if (dwfl_ == nullptr) {
    return Status(StatusCode::kInternal,
                  std::string("symbolize: dwfl_begin: ") + dwfl_errmsg(-1));
  }
  dwfl_report_begin(dwfl_);
  mod_ = dwfl_report_offline(dwfl_, path.c_str(), path.c_str(), -1);
  if (mod_ == nullptr) {
    return Status(StatusCode::kInvalidArgument,
                  "symbolize: " + path + " is not a usable ELF file (" +
                      dwfl_errmsg(-1) + ")");
  }
  if (dwfl_report_end(dwfl_, nullptr, nullptr) != 0) {
    return Status(
        StatusCode::kInternal,
        std::string("symbolize: dwfl_report_end: ") + dwfl_errmsg(-1));
  }
  GElf_Addr elf_bias = 0;
  Elf* elf = dwfl_module_getelf(mod_, &elf_bias);
  if (elf == nullptr) {
    return Status(StatusCode::kInvalidArgument,
                  "symbolize: " + path + ": " + dwfl_errmsg(-1));
  }
  // Sections of the main file (BFD: the first SEC_ALLOC section holding the
  // address decides which symbols may name it).
  size_t shnum = 0;
  elf_getshdrnum(elf, &shnum);
  for (size_t i = 1; i < shnum; ++i) {
    GElf_Shdr sh;
    Elf_Scn* scn = elf_getscn(elf, i);
    if (scn == nullptr || gelf_getshdr(scn, &sh) == nullptr) continue;
    if ((sh.sh_flags & SHF_ALLOC) == 0 || sh.sh_size == 0) continue;
    sections_.push_back({sh.sh_addr, sh.sh_size, static_cast<uint32_t>(i)});
  }
  // Symbols, in symbol-table order first (STT_FILE association), then sorted.
  int nsyms = dwfl_module_getsymtab(mod_);
  const char* file = nullptr;
  enum { kNothingSeen, kSymbolSeen, kFileAfterSymbolSeen } state = kNothingSeen;
  for (int i = 1; i < nsyms; ++i) {
    GElf_Sym sym;
    GElf_Addr addr = 0;
    GElf_Word shndx = 0;
    Elf* sym_elf = nullptr;
    Dwarf_Addr sym_bias = 0;
    const char* name = dwfl_module_getsym_info(mod_, i, &sym, &addr, &shndx,
                                               &sym_elf, &sym_bias);
    if (name == nullptr) continue;
    const int type = GELF_ST_TYPE(sym.st_info);
    if (type == STT_FILE) {
      file = name;
      if (state == kSymbolSeen) state = kFileAfterSymbolSeen;
      continue;
    }
    if (state == kNothingSeen) state = kSymbolSeen;
    if (type == STT_SECTION || type == STT_OBJECT || type == STT_TLS ||
        type == STT_COMMON || shndx == SHN_UNDEF || shndx == SHN_ABS) {
      continue;
    }
    const int bind = GELF_ST_BIND(sym.st_info);
    if (sym.st_size == 0 && bind == STB_LOCAL && type == STT_NOTYPE &&
        GELF_ST_VISIBILITY(sym.st_other) == STV_HIDDEN) {
      continue;  // annobin markers (BFD's _bfd_elf_maybe_function_sym)
    }
    ElfSym s;
    s.value = addr - elf_bias;
    s.size = sym.st_size ? sym.st_size : 1;
    s.shndx = shndx;
    s.order = static_cast<uint32_t>(i);
    s.type = static_cast<uint8_t>(type);
    s.bind = static_cast<uint8_t>(bind);
    s.name = name;
    s.file = (file != nullptr &&
              (bind == STB_LOCAL || state != kFileAfterSymbolSeen))
                 ? file
                 : nullptr;
    syms_.push_back(s);
  }
  std::sort(syms_.begin(), syms_.end(), [](const ElfSym& a, const ElfSym& b) {
    return a.value != b.value ? a.value < b.value : a.order < b.order;
  });

  Dwarf_Addr dwarf_bias = 0;
  dwarf_ = dwfl_module_getdwarf(mod_, &dwarf_bias);
  if (dwarf_ == nullptr) return Status::Ok();  // symbol table only
  // CU address ranges from the CU DIEs (clang emits no .debug_aranges).
  Dwarf_CU* cu = nullptr;
  Dwarf_CU* next = nullptr;
  Dwarf_Half version = 0;
  uint8_t unit_type = 0;
  Dwarf_Die cudie;
  while (dwarf_get_units(dwarf_, cu, &next, &version, &unit_type, &cudie,
                         nullptr) == 0) {
    cu = next;
    if (unit_type == DW_UT_type || unit_type == DW_UT_split_type) continue;
    const uint32_t index = static_cast<uint32_t>(cus_.size());
    Cu c;
    c.die = dwarf_dieoffset(&cudie);
    c.version = version;
    cus_.push_back(std::move(c));
    ptrdiff_t off = 0;
    Dwarf_Addr base, start, end;
    while ((off = dwarf_ranges(&cudie, off, &base, &start, &end)) > 0) {
      if (start < end) cu_ranges_.push_back({start, end, index});
    }
  }
  BuildCuSegments();
  return Status::Ok();
}

// The lowest-numbered CU holding the address (BFD keeps the first CU that
// answers), from elementary segments like the function map.
namespace {

// The elementary segments of n ranges [lo(r), hi(r)) that may overlap: a
// start address wherever the best range holding it changes, with
// value_of(best), or -1 where no range holds it. better(a, b) orders range
// indices best first (a strict weak order).
template <typename Value, typename Lo, typename Hi, typename Better,
          typename ValueOf>
void SweepSegments(size_t n, Lo lo, Hi hi, Better better, ValueOf value_of,
                   std::vector<uint64_t>* starts, std::vector<Value>* values) {
  struct Event {
    uint64_t at;
    bool start;
    uint32_t range;
  };
  std::vector<Event> events;
  events.reserve(2 * n);
  for (uint32_t r = 0; r < n; ++r) {
    events.push_back({lo(r), true, r});
    events.push_back({hi(r), false, r});
  }
  std::sort(events.begin(), events.end(),
            [](const Event& a, const Event& b) { return a.at < b.at; });
  std::set<uint32_t, Better> active(better);
  size_t i = 0;
  while (i < events.size()) {
    const uint64_t at = events[i].at;
    for (; i < events.size() && events[i].at == at; ++i) {
      if (events[i].start) {
        active.insert(events[i].range);
      } else {
        active.erase(events[i].range);
      }
    }
    const Value best = active.empty()
                           ? Value{-1}
                           : static_cast<Value>(value_of(*active.begin()));
    if (!values->empty() && values->back() == best) continue;
    starts->push_back(at);
    values->push_back(best);
  }
}

}  // namespace

int DwSymbolizer::FindCu(uint64_t address) const {
  auto it =
      std::upper_bound(cu_seg_start_.begin(), cu_seg_start_.end(), address);
  if (it == cu_seg_start_.begin()) return -1;
  return cu_seg_cu_[static_cast<size_t>(it - cu_seg_start_.begin()) - 1];
}

void DwSymbolizer::BuildCuSegments() {
  // Of the CUs whose ranges hold an address, the first CU wins.
  SweepSegments(
      cu_ranges_.size(), [&](uint32_t r) { return cu_ranges_[r].lo; },
      [&](uint32_t r) { return cu_ranges_[r].hi; },
      [&](uint32_t a, uint32_t b) {
        if (cu_ranges_[a].cu != cu_ranges_[b].cu)
          return cu_ranges_[a].cu < cu_ranges_[b].cu;
        return a < b;
      },
      [&](uint32_t r) { return static_cast<int>(cu_ranges_[r].cu); },
      &cu_seg_start_, &cu_seg_cu_);
}

void DwSymbolizer::LoadCu(Cu& cu) {
  cu.loaded = true;
  Dwarf_Die cudie;
  if (dwarf_offdie(dwarf_, cu.die, &cudie) == nullptr) return;
  Dwarf_Attribute comp_dir_attr;
  if (const char* dir = dwarf_formstring(
          dwarf_attr(&cudie, DW_AT_comp_dir, &comp_dir_attr))) {
    cu.comp_dir = dir;
  }
  switch (dwarf_srclang(&cudie)) {
    case DW_LANG_C89:
    case DW_LANG_C:
    case DW_LANG_C99:
    case DW_LANG_C11:
    case DW_LANG_Cobol74:
    case DW_LANG_Cobol85:
    case DW_LANG_Fortran77:
    case DW_LANG_Fortran90:
    case DW_LANG_Fortran95:
    case DW_LANG_Fortran03:
    case DW_LANG_Fortran08:
    case DW_LANG_Pascal83:
    case DW_LANG_Modula2:
    case DW_LANG_UPC:
    case DW_LANG_Mips_Assembler:
      cu.c_like = true;
      break;
    default:
      break;
  }
  Dwarf_Lines* lines = nullptr;
  size_t nlines = 0;
  if (dwarf_getsrclines(&cudie, &lines, &nlines) == 0) {
    cu.rows.reserve(nlines);
    cu.row_addr.reserve(nlines);
    for (size_t i = 0; i < nlines; ++i) {
      Dwarf_Line* line = dwarf_onesrcline(lines, i);
      Dwarf_Addr a = 0;
      if (line == nullptr || dwarf_lineaddr(line, &a) != 0) continue;
      cu.rows.push_back(line);
      cu.row_addr.push_back(a);
    }
  }
  if (dwarf_getsrcfiles(&cudie, &cu.files, &cu.nfiles) != 0) {
    cu.files = nullptr;
    cu.nfiles = 0;
  }
  cu.file_names.resize(cu.nfiles);
  cu.file_done.resize(cu.nfiles);
  uint32_t order = 0;
  std::vector<uint32_t> orders;
  ScanFunctions(cu, &cudie, -1, &order, &orders);
  BuildSegments(cu, orders);
}

// Records every function DIE in DIE order (BFD's scan_unit_for_symbols):
// nesting decides an inlined subroutine's caller, skipping lexical blocks.
void DwSymbolizer::ScanFunctions(Cu& cu, Dwarf_Die* parent, int32_t enclosing,
                                 uint32_t* order,
                                 std::vector<uint32_t>* orders) {
  Dwarf_Die child;
  if (dwarf_child(parent, &child) != 0) return;
  do {
    const int tag = dwarf_tag(&child);
    int32_t here = enclosing;
    if (tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine ||
        tag == DW_TAG_entry_point) {
      Func f;
      f.die = dwarf_dieoffset(&child);
      f.inlined = tag == DW_TAG_inlined_subroutine;
      f.c_like = cu.c_like;
      if (f.inlined) {
        f.parent = enclosing;
        Dwarf_Attribute attr;
        Dwarf_Word w = 0;
        if (dwarf_formudata(dwarf_attr(&child, DW_AT_call_file, &attr), &w) ==
            0) {
          f.call_file = static_cast<uint32_t>(w);
        }
        if (dwarf_formudata(dwarf_attr(&child, DW_AT_call_line, &attr), &w) ==
            0) {
          f.call_line = static_cast<uint32_t>(w);
        }
        if (dwarf_formudata(dwarf_attr(&child, DW_AT_call_column, &attr), &w) ==
            0) {
          f.call_column = static_cast<uint32_t>(w);
        }
      }
      here = static_cast<int32_t>(cu.funcs.size());
      // BFD's arange_add: a range that starts where a recorded one ends (or
      // ends where one starts) extends it; others are inserted after the
      // first. The first arange's low names the function's start, and the
      // merged lengths decide the best fit.
      std::vector<std::pair<uint64_t, uint64_t>> aranges;
      ptrdiff_t off = 0;
      Dwarf_Addr base, start, end;
      while ((off = dwarf_ranges(&child, off, &base, &start, &end)) > 0) {
        if (start >= end) continue;
        bool merged = false;
        for (auto& a : aranges) {
          if (start == a.second) {
            a.second = end;
            merged = true;
            break;
          }
          if (end == a.first) {
            a.first = start;
            merged = true;
            break;
          }
        }
        if (merged) continue;
        if (aranges.empty()) {
          aranges.emplace_back(start, end);
        } else {
          aranges.emplace(aranges.begin() + 1, start, end);
        }
      }
      if (!aranges.empty()) {
        f.has_range = true;
        f.low = aranges[0].first;
      }
      for (const auto& a : aranges) {
        // Temporarily in seg_start/seg_func as (lo, hi) pairs.
        cu.seg_start.push_back(a.first);
        cu.seg_start.push_back(a.second);
        cu.seg_func.push_back(here);
      }
      cu.funcs.push_back(std::move(f));
      orders->push_back((*order)++);
    }
    // Types outside functions hold only declarations (no code): a C++ CU is
    // mostly types, and skipping them saves a third of the indexing. Local
    // types are scanned: gcc nests a lambda's operator() in its closure type.
    const bool type =
        enclosing < 0 &&
        (tag == DW_TAG_structure_type || tag == DW_TAG_class_type ||
         tag == DW_TAG_union_type || tag == DW_TAG_enumeration_type ||
         tag == DW_TAG_subroutine_type || tag == DW_TAG_array_type);
    if (!type && dwarf_haschildren(&child) > 0) {
      ScanFunctions(cu, &child, here, order, orders);
    }
  } while (dwarf_siblingof(&child, &child) == 0);
}

// BFD's lookup_address_in_function_table: of the function ranges holding an
// address, the shortest wins; on a tie the later DIE. Precomputed as a flat
// list of elementary segments so a lookup is one binary search.
void DwSymbolizer::BuildSegments(Cu& cu, const std::vector<uint32_t>& orders) {
  struct Range {
    uint64_t lo, hi;
    int32_t func;
  };
  std::vector<Range> ranges;
  ranges.reserve(cu.seg_func.size());
  for (size_t i = 0; i < cu.seg_func.size(); ++i) {
    ranges.push_back(
        {cu.seg_start[2 * i], cu.seg_start[2 * i + 1], cu.seg_func[i]});
  }
  cu.seg_start.clear();
  cu.seg_func.clear();
  if (ranges.empty()) return;
  // Active ranges ordered best first: shortest, then latest DIE.
  auto better = [&](uint32_t a, uint32_t b) {
    const uint64_t la = ranges[a].hi - ranges[a].lo;
    const uint64_t lb = ranges[b].hi - ranges[b].lo;
    if (la != lb) return la < lb;
    const uint32_t oa = orders[ranges[a].func];
    const uint32_t ob = orders[ranges[b].func];
    if (oa != ob) return oa > ob;
    return a < b;
  };
  SweepSegments(
      ranges.size(), [&](uint32_t r) { return ranges[r].lo; },
      [&](uint32_t r) { return ranges[r].hi; }, better,
      [&](uint32_t r) { return ranges[r].func; }, &cu.seg_start, &cu.seg_func);
}

int32_t DwSymbolizer::FindFunc(const Cu& cu, uint64_t address) const {
  auto it = std::upper_bound(cu.seg_start.begin(), cu.seg_start.end(), address);
  if (it == cu.seg_start.begin()) return -1;
  return cu.seg_func[static_cast<size_t>(it - cu.seg_start.begin()) - 1];
}

// BFD's lookup_address_in_line_info_table: the last row at or below the
// address, unless that row ends a sequence (the address is in a gap).
Dwarf_Line* DwSymbolizer::FindRow(const Cu& cu, uint64_t address) const {
  auto it = std::upper_bound(cu.row_addr.begin(), cu.row_addr.end(), address);
  if (it == cu.row_addr.begin()) return nullptr;
  Dwarf_Line* line = cu.rows[static_cast<size_t>(it - cu.row_addr.begin()) - 1];
  bool end_sequence = false;
  if (dwarf_lineendsequence(line, &end_sequence) != 0 || end_sequence) {
    return nullptr;
  }
  return line;
}

// BFD's concat_filename: a relative name is joined with its directory, and a
// relative directory (or none) with DW_AT_comp_dir. libdw already joined the
// directory; only the comp dir may be missing.
const std::string& DwSymbolizer::FileName(Cu& cu, size_t index) {
  static const std::string kUnknownFile = kUnknown;
  if (index >= cu.nfiles) return kUnknownFile;
  if (cu.file_done[index]) return cu.file_names[index];
  cu.file_done[index] = true;
  const char* name = dwarf_filesrc(cu.files, index, nullptr, nullptr);
  std::string& out = cu.file_names[index];
  if (name == nullptr) {
    out = kUnknown;
  } else if (name[0] != '/' && !cu.comp_dir.empty()) {
    out = cu.comp_dir + "/" + name;
  } else {
    out = name;
  }
  return out;
}

// BFD's name for a function DIE: a linkage name anywhere along
// DW_AT_abstract_origin / DW_AT_specification, else the first DW_AT_name.
const std::string& DwSymbolizer::FuncName(Func& f) {
  if (f.named) return f.name;
  f.named = true;
  Dwarf_Die die;
  if (dwarf_offdie(dwarf_, f.die, &die) == nullptr) {
    f.name = kUnknown;
    return f.name;
  }
  Dwarf_Attribute attr;
  const char* s =
      dwarf_formstring(dwarf_attr_integrate(&die, DW_AT_linkage_name, &attr));
  if (s == nullptr) {
    s = dwarf_formstring(
        dwarf_attr_integrate(&die, DW_AT_MIPS_linkage_name, &attr));
  }
  if (s != nullptr) {
    f.is_linkage = true;
  } else {
    s = dwarf_formstring(dwarf_attr_integrate(&die, DW_AT_name, &attr));
    f.is_linkage = s != nullptr && f.c_like;
  }
  f.name = s != nullptr ? s : kUnknown;
  return f.name;
}

const Section* DwSymbolizer::FindSection(uint64_t address) const {
  for (const Section& s : sections_) {
    if (address >= s.addr && address - s.addr < s.size) return &s;
  }
  return nullptr;
}

// BFD's elf_find_function: the closest symbol at or below the address in the
// address's section, even one whose size does not reach it; among symbols at
// the same value, one that reaches the address, else the larger.
const ElfSym* DwSymbolizer::FindSymbol(uint64_t address) const {
  const Section* sec = FindSection(address);
  if (sec == nullptr) return nullptr;
  auto it =
      std::upper_bound(syms_.begin(), syms_.end(), address,
                       [](uint64_t a, const ElfSym& s) { return a < s.value; });
  // Walk back to the closest value that has a symbol in this section.
  const ElfSym* best = nullptr;
  while (it != syms_.begin()) {
    --it;
    if (best != nullptr && it->value != best->value) break;
    if (it->shndx != sec->index) continue;
    if (best == nullptr) {
      best = &*it;
      continue;
    }
    // Same value: symbol-table order is it < best; BFD met `it` first.
    const ElfSym* first = &*it;
    const ElfSym* second = best;
    const bool first_reaches = address < first->value + first->size;
    const bool second_reaches = address < second->value + second->size;
    if (!first_reaches) {
      best = second->size > first->size ? second : first;
    } else if (second_reaches && second->size < first->size) {
      best = first;  // keep the first unless the second is a better fit
    } else {
      best = first;
    }
  }
  return best;
}

// BFD names a function without a linkage name (C, static C++ in anonymous
// namespaces, clones) after the ELF symbol when that symbol starts where the
// function's first range does ("foo.constprop.0", the mangled name of an
// anonymous-namespace function), and remembers that for every later frame.
std::string DwSymbolizer::FrameName(Func& f) {
  const std::string& raw = FuncName(f);
  if (bfd_history_)
    return Shown(f.is_linkage || !f.bfd_checked ? raw : f.bfd_name);
  if (!f.is_linkage && f.has_range) {
    const ElfSym* sym = FindSymbol(f.low);
    if (sym != nullptr && sym->value == f.low) return Shown(sym->name);
  }
  return Shown(raw);
}

// The innermost frame's name. With bfd_history_, BFD's state machine
// (_bfd_dwarf2_find_nearest_line): the first time a function without a
// linkage name is innermost, the name printed is the ELF symbol's holding the
// address, and that symbol name sticks to the function only if the symbol
// starts at the function's first arange; later lookups print what stuck.
std::string DwSymbolizer::InnermostName(Func& f, uint64_t address) {
  if (!bfd_history_) return FrameName(f);
  const std::string& raw = FuncName(f);
  if (f.is_linkage) return Shown(raw);
  if (f.bfd_checked) return Shown(f.bfd_name);
  f.bfd_checked = true;
  f.bfd_name = raw;
  const ElfSym* sym = FindSymbol(address);
  if (sym == nullptr) return Shown(raw);
  if (sym->value == f.low) f.bfd_name = sym->name;
  return Shown(sym->name);
}

bool DwSymbolizer::DefaultFileRow(uint64_t address, std::string* file0) {
  const int index = dwarf_ != nullptr ? FindCu(address) : -1;
  if (index < 0) return false;
  Cu& cu = cus_[static_cast<size_t>(index)];
  if (!cu.loaded) LoadCu(cu);
  Dwarf_Line* row = FindRow(cu, address);
  Dwarf_Files* files = nullptr;
  size_t file = 0;
  if (cu.version < 5 || row == nullptr ||
      dwarf_line_file(row, &files, &file) != 0 || file != 1) {
    return false;
  }
  *file0 = FileName(cu, 0);
  return true;
}

size_t DwSymbolizer::CusCovering(uint64_t address) const {
  size_t n = 0;
  for (const CuRange& r : cu_ranges_) {
    if (address >= r.lo && address < r.hi) ++n;
  }
  return n;
}

SourceFrames DwSymbolizer::Lookup(uint64_t address) {
  SourceFrames frames;
  // addr2line answers only for addresses inside an allocated section; debug
  // info of discarded COMDAT copies sits at (tombstone) address 0.
  if (FindSection(address) == nullptr) {
    frames.push_back({kUnknown, kUnknown, 0, 0});
    return frames;
  }
  const int cu_index = dwarf_ != nullptr ? FindCu(address) : -1;
  if (cu_index >= 0) {
    Cu& cu = cus_[static_cast<size_t>(cu_index)];
    if (!cu.loaded) LoadCu(cu);
    const int32_t fi = FindFunc(cu, address);
    Dwarf_Line* row = FindRow(cu, address);
    if (fi >= 0 || row != nullptr) {
      SourceFrame top;
      bool have_file = false;
      if (row != nullptr) {
        Dwarf_Files* files = nullptr;
        size_t index = 0;
        int line = 0;
        int column = 0;
        if (dwarf_line_file(row, &files, &index) == 0) {
          top.file = FileName(cu, index);
          have_file = true;
        }
        if (dwarf_lineno(row, &line) == 0)
          top.line = static_cast<uint32_t>(line);
        if (dwarf_linecol(row, &column) == 0) {
          top.column = static_cast<uint32_t>(column);
        }
      }
      const ElfSym* sym = nullptr;
      bool sym_done = false;
      if (fi >= 0) {
        top.function =
            InnermostName(cu.funcs[static_cast<size_t>(fi)], address);
      } else {
        sym = FindSymbol(address);
        sym_done = true;
        top.function = sym != nullptr ? Shown(sym->name) : kUnknown;
      }
      if (!have_file) {
        if (!sym_done) sym = FindSymbol(address);
        top.file =
            sym != nullptr && sym->file != nullptr ? sym->file : kUnknown;
      }
      frames.push_back(std::move(top));
      if (options_.inlines && fi >= 0) {
        int32_t cur = fi;
        while (cu.funcs[static_cast<size_t>(cur)].inlined &&
               cu.funcs[static_cast<size_t>(cur)].parent >= 0) {
          const Func& callee = cu.funcs[static_cast<size_t>(cur)];
          const int32_t caller_index = callee.parent;
          SourceFrame caller;
          caller.file = FileName(cu, callee.call_file);
          caller.line = callee.call_line;
          caller.column = callee.call_column;
          Func& caller_func = cu.funcs[static_cast<size_t>(caller_index)];
          caller.function = FrameName(caller_func);
          frames.push_back(std::move(caller));
          cur = caller_index;
        }
      }
      return frames;
    }
  }
  // No DWARF: the symbol table (BFD's _bfd_elf_find_function).
  SourceFrame frame;
  const ElfSym* sym = FindSymbol(address);
  frame.function = sym != nullptr ? Shown(sym->name) : kUnknown;
  frame.file = sym != nullptr && sym->file != nullptr ? sym->file : kUnknown;
  frames.push_back(std::move(frame));
  return frames;
}

Status DwSymbolizer::SymbolizeReturnAddresses(std::span<const uint64_t> pcs,
                                              std::vector<SourceFrames>* out,
                                              const ProgressFn& progress) {
  // Sorted unique lookups: neighbours share a CU, and each CU is indexed once.
  std::vector<uint64_t> unique(pcs.begin(), pcs.end());
  std::sort(unique.begin(), unique.end());
  unique.erase(std::unique(unique.begin(), unique.end()), unique.end());
  const size_t total = unique.size();
  size_t done = 0;
  for (uint64_t pc : unique) {
    StatusOr<SourceFrames> r = SymbolizeReturnAddress(pc);
    if (!r.ok()) return r.status();
    if (progress && (++done % 4096 == 0 || done == total)) {
      progress(done, total);
    }
  }
  out->clear();
  out->reserve(pcs.size());
  for (uint64_t pc : pcs) {
    out->push_back(cache_.find(pc == 0 ? 0 : pc - 1)->second);
  }
  return Status::Ok();
}

}  // namespace

StatusOr<std::unique_ptr<Symbolizer>> OpenWithBfdHistory(
    const std::string& elf_path, SymbolizerOptions options) {
  (void)elf_version(EV_CURRENT);
  auto s = std::make_unique<DwSymbolizer>(options, true);
  REMCOV_RETURN_IF_ERROR(s->Init(elf_path));
  return std::unique_ptr<Symbolizer>(std::move(s));
}

bool RowUsesFileOneOfDwarf5(Symbolizer& s, uint64_t address,
                            std::string* file0) {
  return static_cast<DwSymbolizer&>(s).DefaultFileRow(address, file0);
}

size_t CompileUnitsCovering(Symbolizer& s, uint64_t address) {
  return static_cast<DwSymbolizer&>(s).CusCovering(address);
}

}  // namespace symbolize_internal

StatusOr<std::unique_ptr<Symbolizer>> Symbolizer::Open(
    const std::string& elf_path, SymbolizerOptions options) {
  (void)elf_version(EV_CURRENT);
  auto s = std::make_unique<symbolize_internal::DwSymbolizer>(options, false);
  REMCOV_RETURN_IF_ERROR(s->Init(elf_path));
  return std::unique_ptr<Symbolizer>(std::move(s));
}

}  // namespace remcov
