// SPDX-License-Identifier: Apache-2.0
// remcov::ListInstrumentedSites against objdump: the exact set of return
// addresses of calls to coverage callbacks (direct, through the PLT, through
// the GOT) in this PIE test binary and in the site fixture built by gcc and
// clang; and every PC and comparison ip the runtime records while the
// fixtures run is a site of the right kind, once the load bias is removed.
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "remcov/collector.h"
#include "remcov/symbolize.h"

#include "fixture_cxx.h"
#include "fixtures.h"
#include "symbolize_test_util.h"
#include "testing/skip.h"

namespace remcov::testing {
namespace {

#if defined(__GNUC__) && !defined(__clang__)
constexpr bool kBuiltByGcc = true;
#else
constexpr bool kBuiltByGcc = false;
#endif

SiteMap ToMap(const std::vector<InstrumentedSite>& v) {
  SiteMap m;
  for (const InstrumentedSite& s : v) m[s.pc] = s.kind;
  return m;
}

void ExpectSameSites(const std::string& elf, size_t* count = nullptr) {
  auto sites = ListInstrumentedSites(elf);
  ASSERT_TRUE(sites.ok()) << sites.status().ToString();
  EXPECT_TRUE(
      std::is_sorted(sites->begin(), sites->end(),
                     [](const InstrumentedSite& a, const InstrumentedSite& b) {
                       return a.pc < b.pc;
                     }));
  const SiteMap expected = ObjdumpSites(elf);
  EXPECT_GT(expected.size(), 10u) << elf;
  const SiteMap got = ToMap(*sites);
  EXPECT_EQ(got.size(), sites->size()) << "duplicates";
  size_t missing = 0, extra = 0, wrong_kind = 0;
  for (const auto& [pc, kind] : expected) {
    auto it = got.find(pc);
    if (it == got.end()) {
      if (++missing <= 3)
        ADD_FAILURE() << elf << ": missing site 0x" << std::hex << pc;
    } else if (it->second != kind) {
      ++wrong_kind;
    }
  }
  for (const auto& [pc, kind] : got) {
    if (!expected.count(pc) && ++extra <= 3) {
      ADD_FAILURE() << elf << ": extra site 0x" << std::hex << pc;
    }
  }
  EXPECT_EQ(missing, 0u);
  EXPECT_EQ(extra, 0u);
  EXPECT_EQ(wrong_kind, 0u);
  printf("%s: %zu sites (objdump: %zu)\n", elf.c_str(), got.size(),
         expected.size());
  if (count != nullptr) *count = got.size();
}

class SitesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HaveTool("objdump")) REMCOV_SKIP_OR_FAIL("objdump not installed");
  }
};

TEST_F(SitesTest, ThisPieBinaryMatchesObjdump) { ExpectSameSites(SelfPath()); }

TEST_F(SitesTest, EachFixtureLibraryMatchesObjdump) {
  std::set<std::string> seen;
  for (const std::string& v : Variants()) {
    SCOPED_TRACE(v);
    size_t n = 0;
    ExpectSameSites(VariantPath(v), &n);
    seen.insert(v);
  }
  EXPECT_TRUE(seen.count("gcc_plt") || seen.count("clang_plt"));
}

TEST_F(SitesTest, KindsFollowTheCallback) {
  for (const std::string& v : Variants()) {
    auto sites = ListInstrumentedSites(VariantPath(v));
    ASSERT_TRUE(sites.ok());
    std::set<SiteKind> kinds;
    for (const InstrumentedSite& s : *sites) kinds.insert(s.kind);
    if (v.ends_with("_guard")) {
      EXPECT_EQ(kinds, (std::set<SiteKind>{SiteKind::kPcGuard})) << v;
    } else {
      EXPECT_EQ(kinds, (std::set<SiteKind>{SiteKind::kPc, SiteKind::kCmp}))
          << v;
    }
  }
}

// Tail jumps from `objdump -d -w` alone: the address after every `jmp`
// to a callback (directly, through its PLT stub, or through a GOT slot that
// `objdump -R` shows bound to one).
SiteMap ObjdumpTailJumps(const std::string& elf) {
  bool ok = false;
  const std::map<uint64_t, int> slots = ObjdumpCallbackSlots(elf);
  const std::string dis = RunWithInput("objdump -d -w '" + elf + "'", "", &ok);
  EXPECT_TRUE(ok) << "objdump -d " << elf;
  // address, raw bytes, instruction
  static const std::regex kInsn(
      R"(^\s*([0-9a-f]+):\t((?:[0-9a-f]{2} )+)\s*\t(.*)$)");
  static const std::regex kDirect(R"(^jmp\s+[0-9a-f]+ <([A-Za-z0-9_@.]+)>)");
  static const std::regex kSlot(
      R"(^jmp\s+\*0x[0-9a-f]+\(%rip\)\s+# ([0-9a-f]+))");
  SiteMap jumps;
  std::istringstream in(dis);
  std::string line;
  bool in_plt = false;
  std::smatch m;
  while (std::getline(in, line)) {
    if (line.starts_with("Disassembly of section ")) {
      in_plt = line.find(".plt") != std::string::npos;
      continue;
    }
    if (in_plt || !std::regex_match(line, m, kInsn)) continue;
    const uint64_t end =
        strtoull(m[1].str().c_str(), nullptr, 16) + m[2].str().size() / 3;
    const std::string text = m[3];
    std::smatch c;
    int kind = -1;
    if (std::regex_search(text, c, kDirect)) {
      kind = KindOf(c[1]);
    } else if (std::regex_search(text, c, kSlot)) {
      auto it = slots.find(strtoull(c[1].str().c_str(), nullptr, 16));
      if (it != slots.end()) kind = it->second;
    }
    if (kind >= 0) jumps[end] = static_cast<SiteKind>(kind);
  }
  return jumps;
}

// ListModuleSites: its calls are ListInstrumentedSites, its tail jumps
// those objdump shows, and its tail calls ListTailCallSites, each naming
// jumps of the list (gcc -O2 makes some; clang none).
TEST_F(SitesTest, ModuleSitesListTailJumpsAndTheirCallers) {
  std::vector<std::string> elfs = {SelfPath()};
  for (const std::string& v : Variants()) elfs.push_back(VariantPath(v));
  size_t jumps = 0, calls = 0, ambiguous = 0;
  for (const std::string& elf : elfs) {
    SCOPED_TRACE(elf);
    auto m = ListModuleSites(elf);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    auto sites = ListInstrumentedSites(elf);
    ASSERT_TRUE(sites.ok());
    EXPECT_EQ(m->calls, *sites);
    const SiteMap got = ToMap(m->tail_jumps);
    EXPECT_EQ(got.size(), m->tail_jumps.size()) << "duplicates";
    EXPECT_EQ(got, ObjdumpTailJumps(elf));
    auto tail = ListTailCallSites(elf);
    ASSERT_TRUE(tail.ok());
    ASSERT_EQ(m->tail_calls.size(), tail->size());
    for (size_t i = 0; i < tail->size(); i++) {
      const TailCall& c = m->tail_calls[i];
      EXPECT_EQ(c.pc, (*tail)[i].pc);
      ASSERT_FALSE(c.jumps.empty());
      EXPECT_EQ(c.jumps.front().kind, (*tail)[i].kind);
      for (const InstrumentedSite& j : c.jumps) {
        auto it = got.find(j.pc);
        EXPECT_TRUE(it != got.end() && it->second == j.kind)
            << "0x" << std::hex << j.pc;
      }
      if (c.jumps.size() > 1) ambiguous++;
    }
    jumps += got.size();
    calls += m->tail_calls.size();
  }
  printf("%zu tail jumps, %zu calls to their functions (%zu ambiguous)\n",
         jumps, calls, ambiguous);
  // The jumps come from this binary's C++ fixture (-O2); the site fixtures
  // have none. clang emits no tail jump to a callback.
  if (kBuiltByGcc) {
    EXPECT_GT(jumps, 0u);
    EXPECT_GT(calls, 0u);
  }
}

// The load bias of the main executable (its dl_iterate_phdr entry).
uint64_t MainBias() {
  uint64_t bias = 0;
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* data) {
        *static_cast<uint64_t*>(data) = info->dlpi_addr;
        return 1;  // the first entry is the main program
      },
      &bias);
  return bias;
}

// Runs `fn` under a collector in `mode` and returns the recorded PCs (or
// comparison ips).
template <typename Fn>
std::vector<uint64_t> Record(TraceMode mode, Fn fn) {
  auto c = Collector::Open(RuntimeBackend(), 1 << 16);
  EXPECT_TRUE(c.ok());
  if (!c.ok()) return {};
  EXPECT_TRUE(c->Enable(mode).ok());
  fn();
  EXPECT_TRUE(c->Disable().ok());
  std::vector<uint64_t> out;
  if (mode == TraceMode::kPc) {
    for (uint64_t pc : c->Pcs()) out.push_back(pc);
  } else {
    for (const CmpRecord& r : c->Cmps()) out.push_back(r.ip);
  }
  return out;
}

void ExpectRecordedAreSites(const std::vector<uint64_t>& pcs, uint64_t lo,
                            uint64_t hi, uint64_t bias, const SiteMap& sites,
                            SiteKind kind, const SiteMap& tail = {}) {
  size_t in_module = 0;
  for (uint64_t pc : pcs) {
    if (pc < lo || pc >= hi) continue;  // another module's code
    ++in_module;
    auto it = sites.find(pc - bias);
    if (it == sites.end()) it = tail.find(pc - bias);
    if (it == tail.end()) it = sites.end();
    ASSERT_TRUE(it != sites.end())
        << "recorded pc 0x" << std::hex << pc - bias << " is not a site";
    EXPECT_EQ(it->second, kind);
  }
  EXPECT_GT(in_module, 5u);
}

TEST(SitesRuntimeTest, EveryPcRecordedInThisBinaryIsASite) {
  auto sites = ListInstrumentedSites(SelfPath());
  ASSERT_TRUE(sites.ok()) << sites.status().ToString();
  const SiteMap map = ToMap(*sites);
  auto tail_sites = ListTailCallSites(SelfPath());
  ASSERT_TRUE(tail_sites.ok());
  const SiteMap tail = ToMap(*tail_sites);
  const uint64_t bias = MainBias();
  uint64_t lo = map.begin()->first + bias;
  uint64_t hi = map.rbegin()->first + bias + 1;
  if (!tail.empty()) {
    lo = std::min(lo, tail.begin()->first + bias);
    hi = std::max(hi, tail.rbegin()->first + bias + 1);
  }
  printf("%zu sites, %zu tail-call sites\n", map.size(), tail.size());
  const std::string text = "remcov 42 kcov remote 7 remote remcov 1000 x";
  const auto pcs = Record(TraceMode::kPc,
                          [&] { EXPECT_GT(symbolize_fixture::Run(text), 0); });
  ExpectRecordedAreSites(pcs, lo, hi, bias, map, SiteKind::kPc, tail);
  const auto ips = Record(TraceMode::kCmp,
                          [&] { EXPECT_GT(symbolize_fixture::Run(text), 0); });
  ExpectRecordedAreSites(ips, lo, hi, bias, map, SiteKind::kCmp, tail);
}

TEST(SitesRuntimeTest, EveryPcRecordedInALoadedLibraryIsASite) {
  size_t loaded = 0;
  for (const std::string& v : Variants()) {
    // The runtime has no pc_guard; a PIE cannot be dlopened.
    if (v.ends_with("_guard") || v.ends_with("_exe")) continue;
    SCOPED_TRACE(v);
    auto sites = ListInstrumentedSites(VariantPath(v));
    ASSERT_TRUE(sites.ok()) << sites.status().ToString();
    const SiteMap map = ToMap(*sites);
    void* h = dlopen(VariantPath(v).c_str(), RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(h, nullptr) << dlerror();
    using RunFn = int (*)(const char*, size_t);
    auto run = reinterpret_cast<RunFn>(dlsym(h, "sites_fixture_run"));
    ASSERT_NE(run, nullptr);
    link_map* lm = nullptr;
    ASSERT_EQ(dlinfo(h, RTLD_DI_LINKMAP, &lm), 0);
    const uint64_t bias = lm->l_addr;
    const uint64_t lo = map.begin()->first + bias;
    const uint64_t hi = map.rbegin()->first + bias + 1;
    const char input[] = "abba 123 zz!";
    ExpectRecordedAreSites(
        Record(TraceMode::kPc, [&] { run(input, sizeof input - 1); }), lo, hi,
        bias, map, SiteKind::kPc);
    ExpectRecordedAreSites(
        Record(TraceMode::kCmp, [&] { run(input, sizeof input - 1); }), lo, hi,
        bias, map, SiteKind::kCmp);
    dlclose(h);
    ++loaded;
  }
  EXPECT_GT(loaded, 0u);
}

// Sites of a relocatable object from `objdump -dr -j .text` alone: the
// offset after every `call` whose displacement is relocated against a
// callback (a jmp to one is a tail call, not a site). objdump prints each
// relocation on its own line after its instruction.
SiteMap RelocationSites(const std::string& obj) {
  bool ok = false;
  const std::string dis =
      RunWithInput("objdump -dr -j .text '" + obj + "'", "", &ok);
  EXPECT_TRUE(ok) << "objdump -dr " << obj;
  static const std::regex kInsn(R"(^\s*([0-9a-f]+):\s+(.*)$)");
  static const std::regex kReloc(
      R"(R_X86_64_(PLT32|PC32)\s+([A-Za-z0-9_]+)-0x4$)");
  SiteMap sites;
  std::istringstream in(dis);
  std::string line, last_insn;
  std::smatch m;
  while (std::getline(in, line)) {
    if (!std::regex_match(line, m, kInsn)) continue;
    const std::string text = m[2];
    std::smatch r;
    if (std::regex_search(text, r, kReloc)) {
      const int kind = KindOf(r[2]);
      if (kind >= 0 && last_insn.find("call") != std::string::npos) {
        const uint64_t offset = strtoull(m[1].str().c_str(), nullptr, 16);
        sites[offset + 4] = static_cast<SiteKind>(kind);
      }
    } else {
      last_insn = text;
    }
  }
  return sites;
}

TEST_F(SitesTest, RelocatableObjectsMatchTheirRelocations) {
  size_t checked = 0;
  for (const std::string& obj : RelocatableObjects()) {
    SCOPED_TRACE(obj);
    auto sites = ListInstrumentedSites(obj);
    ASSERT_TRUE(sites.ok()) << sites.status().ToString();
    const SiteMap expected = RelocationSites(obj);
    EXPECT_GT(expected.size(), 10u);
    EXPECT_EQ(ToMap(*sites), expected);
    checked++;
  }
  EXPECT_GT(checked, 0u) << "no relocatable fixture was built";
}

TEST(SitesErrorTest, MissingFileIsAnErrorNamingThePath) {
  auto sites = ListInstrumentedSites("/nonexistent/remcov/vmlinux");
  ASSERT_FALSE(sites.ok());
  EXPECT_EQ(sites.status().code(), StatusCode::kNotFound);
  EXPECT_NE(sites.status().message().find("/nonexistent/remcov/vmlinux"),
            std::string::npos);
}

std::string TempCopy(const std::string& from) {
  char path[] = "/tmp/remcov_sites_XXXXXX";
  const int fd = mkstemp(path);
  std::ifstream in(from, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)),
                    std::istreambuf_iterator<char>());
  EXPECT_EQ(write(fd, bytes.data(), bytes.size()),
            static_cast<ssize_t>(bytes.size()));
  close(fd);
  return path;
}

TEST(SitesErrorTest, NotAnElfFileIsInvalidArgument) {
  const std::string path = TempCopy("/proc/self/cmdline");
  auto sites = ListInstrumentedSites(path);
  unlink(path.c_str());
  ASSERT_FALSE(sites.ok());
  EXPECT_EQ(sites.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(sites.status().message().find(path), std::string::npos);
}

TEST(SitesErrorTest, NonX86ElfIsUnimplemented) {
  const std::string path = TempCopy(VariantPath(Variants().front()));
  const int fd = open(path.c_str(), O_WRONLY);
  const uint16_t aarch64 = EM_AARCH64;
  ASSERT_EQ(pwrite(fd, &aarch64, 2, offsetof(Elf64_Ehdr, e_machine)), 2);
  close(fd);
  auto sites = ListInstrumentedSites(path);
  unlink(path.c_str());
  ASSERT_FALSE(sites.ok());
  EXPECT_EQ(sites.status().code(), StatusCode::kUnimplemented);
  EXPECT_NE(sites.status().message().find("x86-64"), std::string::npos);
}

}  // namespace
}  // namespace remcov::testing
