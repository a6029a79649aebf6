// SPDX-License-Identifier: Apache-2.0
#include "symbolize_test_util.h"

#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <random>
#include <regex>
#include <sstream>

#include <gtest/gtest.h>

#include "symbolize/symbolizer_internal.h"

namespace remcov::testing {

bool HaveTool(const std::string& tool) {
  return system(("command -v " + tool + " > /dev/null 2>&1").c_str()) == 0;
}

std::string RunWithInput(const std::string& command, const std::string& input,
                         bool* ok) {
  char path[] = "/tmp/remcov_symbolize_in_XXXXXX";
  const int fd = mkstemp(path);
  *ok = false;
  if (fd < 0) return "";
  size_t off = 0;
  while (off < input.size()) {
    const ssize_t n = write(fd, input.data() + off, input.size() - off);
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
  close(fd);
  FILE* p = popen((command + " < " + path).c_str(), "r");
  std::string out;
  if (p != nullptr) {
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    const int status = pclose(p);
    *ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }
  unlink(path);
  return out;
}

std::string SelfPath() {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

std::map<uint64_t, SourceFrames> ParseAddr2line(const std::string& text) {
  std::map<uint64_t, SourceFrames> out;
  std::istringstream in(text);
  std::string line;
  SourceFrames* cur = nullptr;
  while (std::getline(in, line)) {
    if (line.rfind("0x", 0) == 0) {
      cur = &out[strtoull(line.c_str(), nullptr, 16)];
      continue;
    }
    if (cur == nullptr) continue;
    SourceFrame f;
    f.function = line;
    std::string loc;
    if (!std::getline(in, loc)) break;
    const size_t disc = loc.find(" (discriminator ");
    if (disc != std::string::npos) loc.resize(disc);
    const size_t colon = loc.rfind(':');
    f.file = loc.substr(0, colon);
    const std::string num =
        colon == std::string::npos ? "" : loc.substr(colon + 1);
    f.line = (num.empty() || num == "?")
                 ? 0
                 : static_cast<uint32_t>(std::stoul(num));
    cur->push_back(std::move(f));
  }
  return out;
}

std::vector<std::pair<uint64_t, uint64_t>> FunctionSymbols(
    const std::string& elf) {
  bool ok = false;
  const std::string out =
      RunWithInput("nm -S --defined-only '" + elf + "'", "", &ok);
  std::vector<std::pair<uint64_t, uint64_t>> funcs;
  std::istringstream in(out);
  std::string a, s, t, name;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream l(line);
    if (!(l >> a >> s >> t >> name)) continue;
    if (t != "t" && t != "T" && t != "W" && t != "w") continue;
    const uint64_t size = strtoull(s.c_str(), nullptr, 16);
    if (size == 0) continue;
    funcs.emplace_back(strtoull(a.c_str(), nullptr, 16), size);
  }
  return funcs;
}

std::vector<uint64_t> AddressesInside(
    const std::vector<std::pair<uint64_t, uint64_t>>& functions, size_t count,
    uint32_t seed) {
  std::vector<uint64_t> out;
  if (functions.empty()) return out;
  std::mt19937_64 rng(seed);
  for (size_t i = 0; i < count; ++i) {
    const auto& [start, size] = functions[rng() % functions.size()];
    out.push_back(start + rng() % size);
  }
  return out;
}

std::string KernelVmlinux() {
  // Under ctest the kernel.build fixture (tests/kernel) writes the env file of
  // the kernel it built: that kernel, not whichever variant a glob finds.
  if (const char* env = getenv("REMCOV_KERNEL_ENV")) {
    std::ifstream in(env);
    std::string line;
    const std::string key = "REMCOV_KERNEL_VMLINUX=";
    while (std::getline(in, line)) {
      if (line.compare(0, key.size(), key) == 0) return line.substr(key.size());
    }
    return "";
  }
  glob_t g;
  std::string path;
  if (glob("/var/cache/remcov/kernel/*/vmlinux", 0, nullptr, &g) == 0 &&
      g.gl_pathc > 0) {
    path = g.gl_pathv[0];
  }
  globfree(&g);
  return path;
}

std::string Show(const SourceFrames& frames) {
  std::string s;
  for (const SourceFrame& f : frames) {
    s +=
        "[" + f.function + " @ " + f.file + ":" + std::to_string(f.line) + "] ";
  }
  return s;
}

Comparison CompareWithAddr2line(const std::string& elf,
                                std::vector<uint64_t> addresses) {
  Comparison c;
  std::sort(addresses.begin(), addresses.end());
  addresses.erase(std::unique(addresses.begin(), addresses.end()),
                  addresses.end());
  std::string input;
  char buf[32];
  for (uint64_t a : addresses) {
    snprintf(buf, sizeof buf, "%#llx\n", static_cast<unsigned long long>(a));
    input += buf;
  }
  bool ok = false;
  const std::string out =
      RunWithInput("addr2line -a -f -i -C -e '" + elf + "'", input, &ok);
  EXPECT_TRUE(ok) << "addr2line failed on " << elf;
  const auto expected = ParseAddr2line(out);
  auto sym = symbolize_internal::OpenWithBfdHistory(elf);
  EXPECT_TRUE(sym.ok()) << sym.status().ToString();
  if (!sym.ok()) return c;
  for (uint64_t a : addresses) {
    ++c.total;
    StatusOr<SourceFrames> got = (*sym)->SymbolizeAddress(a);
    EXPECT_TRUE(got.ok());
    auto it = expected.find(a);
    EXPECT_TRUE(it != expected.end()) << "addr2line skipped " << std::hex << a;
    if (!got.ok() || it == expected.end()) continue;
    // addr2line prints no columns: compare without them.
    SourceFrames mine = *got;
    for (SourceFrame& f : mine) f.column = 0;
    const bool multi = symbolize_internal::CompileUnitsCovering(**sym, a) > 1;
    c.multi_cu += multi;
    if (mine == it->second) continue;
    // addr2line's DWARF 5 bug: frame 0 names file 0 for a row of file 1 of a
    // sequence that never set the file; everything else equal.
    std::string file0;
    if (!mine.empty() && mine.size() == it->second.size() &&
        symbolize_internal::RowUsesFileOneOfDwarf5(**sym, a, &file0) &&
        it->second[0].file == file0) {
      SourceFrames patched = mine;
      patched[0].file = file0;
      if (patched == it->second) {
        ++c.file_one;
        continue;
      }
    }
    // A frame at line 0 with no file where remcov has a line: BFD's answer
    // can depend on the lookups before it (its line-info state). Asked alone,
    // addr2line must then give remcov's answer.
    if (!it->second.empty() && it->second[0].line == 0 &&
        it->second[0].file.empty()) {
      snprintf(buf, sizeof buf, "%#llx\n", static_cast<unsigned long long>(a));
      bool alone_ok = false;
      const auto alone = ParseAddr2line(RunWithInput(
          "addr2line -a -f -i -C -e '" + elf + "'", buf, &alone_ok));
      auto solo = alone.find(a);
      if (alone_ok && solo != alone.end() && solo->second == mine) {
        ++c.history_line;
        continue;
      }
    }
    if (multi) {
      ++c.multi_cu_mismatched;
    } else {
      ++c.mismatched;
    }
    if (c.mismatched + c.multi_cu_mismatched <= 5) {
      std::ostringstream e;
      e << std::hex << "0x" << a << (multi ? " (several CUs)" : "")
        << "\n  addr2line: " << Show(it->second)
        << "\n  remcov:    " << Show(mine) << "\n";
      c.examples += e.str();
    }
  }
  std::cout << elf << ": " << c.total << " addresses, " << c.mismatched
            << " mismatched; " << c.multi_cu << " in several CUs, "
            << c.multi_cu_mismatched << " of them mismatched; " << c.file_one
            << " with addr2line's DWARF 5 file-1 bug; " << c.history_line
            << " at line 0 only after earlier lookups\n";
  return c;
}

// On COMDAT copies claimed by several CUs, addr2line's choice of CU depends
// on which CUs BFD has read so far: at most 1% may differ there (measured: 5
// of 2752 in a Debug runtime_test, 0 of 930 in this test).
void ExpectEqual(const Comparison& c) {
  EXPECT_EQ(c.mismatched, 0u) << c.examples;
  EXPECT_LE(c.multi_cu_mismatched, c.multi_cu / 100 + 1) << c.examples;
  EXPECT_LE(c.file_one, c.total / 100 + 1);
  EXPECT_LE(c.history_line, c.total / 1000 + 1);
}

// The test's own, independent mapping from callback name to kind.
int KindOf(const std::string& name) {
  static const std::map<std::string, SiteKind> kinds = {
      {"__sanitizer_cov_trace_pc", SiteKind::kPc},
      {"__sanitizer_cov_trace_pc_guard", SiteKind::kPcGuard},
      {"__sanitizer_cov_trace_cmp1", SiteKind::kCmp},
      {"__sanitizer_cov_trace_cmp2", SiteKind::kCmp},
      {"__sanitizer_cov_trace_cmp4", SiteKind::kCmp},
      {"__sanitizer_cov_trace_cmp8", SiteKind::kCmp},
      {"__sanitizer_cov_trace_const_cmp1", SiteKind::kCmp},
      {"__sanitizer_cov_trace_const_cmp2", SiteKind::kCmp},
      {"__sanitizer_cov_trace_const_cmp4", SiteKind::kCmp},
      {"__sanitizer_cov_trace_const_cmp8", SiteKind::kCmp},
      {"__sanitizer_cov_trace_switch", SiteKind::kCmp},
  };
  std::string base = name.substr(0, name.find('@'));
  // objdump may name the callback by its alias (same address).
  const std::string alias = "__remcov_cov_";
  if (base.rfind(alias, 0) == 0)
    base = "__sanitizer_cov_" + base.substr(alias.size());
  auto it = kinds.find(base);
  return it == kinds.end() ? -1 : static_cast<int>(it->second);
}

std::map<uint64_t, int> ObjdumpCallbackSlots(const std::string& elf) {
  bool ok = false;
  std::map<uint64_t, int> slots;
  // Not checked: objdump -R fails on an object without dynamic relocations
  // (vmlinux, a static program), which then has no such slot.
  std::istringstream in(RunWithInput("objdump -R '" + elf + "'", "", &ok));
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream l(line);
    std::string addr, type, name;
    if (!(l >> addr >> type >> name)) continue;
    const int kind = KindOf(name);
    if (kind >= 0) slots[strtoull(addr.c_str(), nullptr, 16)] = kind;
  }
  return slots;
}

// Sites from `objdump -d`: a call whose target objdump names as a callback
// (or its @plt stub), or `call *X(%rip)` whose slot X carries a dynamic
// relocation (objdump -R) against a callback; the site is the address of
// the next instruction.
SiteMap ObjdumpSites(const std::string& elf) {
  bool ok = false;
  const std::map<uint64_t, int> slots = ObjdumpCallbackSlots(elf);
  const std::string dis =
      RunWithInput("objdump -d --no-show-raw-insn -w '" + elf + "'", "", &ok);
  EXPECT_TRUE(ok) << "objdump -d " << elf;
  static const std::regex kInsn(R"(^\s*([0-9a-f]+):\s+(.*)$)");
  static const std::regex kDirect(R"(call\s+[0-9a-f]+ <([A-Za-z0-9_@.]+)>)");
  static const std::regex kSlot(
      R"(call\s+\*0x[0-9a-f]+\(%rip\)\s+# ([0-9a-f]+))");
  SiteMap sites;
  int pending = -1;
  std::istringstream in(dis);
  std::string line;
  std::smatch m;
  while (std::getline(in, line)) {
    if (line.find(':') == std::string::npos ||
        line.find("call") == std::string::npos) {
      if (pending < 0) continue;
    }
    if (!std::regex_match(line, m, kInsn)) continue;
    const uint64_t address = strtoull(m[1].str().c_str(), nullptr, 16);
    if (pending >= 0) {
      sites[address] = static_cast<SiteKind>(pending);
      pending = -1;
    }
    const std::string text = m[2];
    std::smatch c;
    if (std::regex_search(text, c, kDirect)) {
      pending = KindOf(c[1]);
    } else if (std::regex_search(text, c, kSlot)) {
      auto it = slots.find(strtoull(c[1].str().c_str(), nullptr, 16));
      if (it != slots.end()) pending = it->second;
    }
  }
  return sites;
}

}  // namespace remcov::testing
