// SPDX-License-Identifier: Apache-2.0
// remcov::Symbolizer against binutils' addr2line: the same frames (function,
// file, line, for every inlined frame) for >= 10,000 addresses of this PIE test
// binary (its instrumented C++ fixture is built -O2 -g), every address of the
// site fixture libraries built by gcc and clang, and a sample of the kernel
// lane's vmlinux when there is one. docs/symbolize.md explains the one class
// of addresses where addr2line's answer depends on its history (COMDAT copies
// claimed by several CUs) and why that count is bounded, not zero.
#include <stdio.h>
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "remcov/status.h"
#include "remcov/symbolize.h"

#include "fixtures.h"
#include "symbolize/symbolizer_internal.h"
#include "symbolize_test_util.h"
#include "testing/skip.h"

namespace remcov::testing {
namespace {

class Addr2lineEqualityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HaveTool("addr2line") || !HaveTool("nm") || !HaveTool("objdump")) {
      REMCOV_SKIP_OR_FAIL("binutils (addr2line, nm, objdump) not installed");
    }
  }
};

TEST_F(Addr2lineEqualityTest, TenThousandAddressesOfThisPieBinary) {
  const std::string self = SelfPath();
  // Every instrumented site (the call instruction, pc - 1) plus addresses
  // spread over all functions, up to at least 10,000 distinct addresses.
  auto sites = ListInstrumentedSites(self);
  ASSERT_TRUE(sites.ok()) << sites.status().ToString();
  ASSERT_GT(sites->size(), 100u);
  std::vector<uint64_t> addresses;
  for (const InstrumentedSite& s : *sites) addresses.push_back(s.pc - 1);
  const auto funcs = FunctionSymbols(self);
  ASSERT_GT(funcs.size(), 1000u);
  auto inside = AddressesInside(funcs, 11000, 7);
  addresses.insert(addresses.end(), inside.begin(), inside.end());
  const Comparison c = CompareWithAddr2line(self, addresses);
  EXPECT_GE(c.total, 10000u);
  ExpectEqual(c);
}

TEST_F(Addr2lineEqualityTest, EveryAddressOfTheFixtureLibraries) {
  const auto variants = Variants();
  ASSERT_FALSE(variants.empty());
  for (const std::string& v : variants) {
    SCOPED_TRACE(v);
    std::vector<uint64_t> addresses;
    for (const auto& [start, size] : FunctionSymbols(VariantPath(v))) {
      for (uint64_t a = start; a < start + size; ++a) addresses.push_back(a);
    }
    ASSERT_GT(addresses.size(), 100u);
    ExpectEqual(CompareWithAddr2line(VariantPath(v), addresses));
  }
}

// Open() names functions without a linkage name the same way every time;
// only those names may differ from addr2line's history-dependent ones.
TEST(SymbolizerTest, DefaultNamesDifferFromAddr2linesOnlyInFunctionNames) {
  const std::string self = SelfPath();
  auto plain = Symbolizer::Open(self);
  auto bfd = symbolize_internal::OpenWithBfdHistory(self);
  ASSERT_TRUE(plain.ok() && bfd.ok());
  auto addresses = AddressesInside(FunctionSymbols(self), 5000, 3);
  std::sort(addresses.begin(), addresses.end());
  size_t renamed = 0;
  for (uint64_t a : addresses) {
    SourceFrames x = (*plain)->SymbolizeAddress(a).value();
    SourceFrames y = (*bfd)->SymbolizeAddress(a).value();
    ASSERT_EQ(x.size(), y.size()) << std::hex << a;
    for (size_t i = 0; i < x.size(); ++i) {
      EXPECT_EQ(x[i].file, y[i].file);
      EXPECT_EQ(x[i].line, y[i].line);
      renamed += x[i].function != y[i].function;
    }
  }
  std::cout << renamed << " frames named differently of " << addresses.size()
            << " addresses\n";
}

TEST(SymbolizerTest, AddressOutsideEverySectionIsUnknown) {
  auto sym = Symbolizer::Open(SelfPath());
  ASSERT_TRUE(sym.ok()) << sym.status().ToString();
  for (uint64_t a : {uint64_t{0}, uint64_t{0x7fff00000000}}) {
    StatusOr<SourceFrames> f = (*sym)->SymbolizeAddress(a);
    ASSERT_TRUE(f.ok());
    EXPECT_EQ(*f, (SourceFrames{{"??", "??", 0, 0}})) << Show(*f);
  }
}

TEST(SymbolizerTest, FindsTheFixtureFunctionWithInlinedFrames) {
  auto sym = Symbolizer::Open(VariantPath(Variants().front()));
  ASSERT_TRUE(sym.ok()) << sym.status().ToString();
  auto sites = ListInstrumentedSites(VariantPath(Variants().front()));
  ASSERT_TRUE(sites.ok());
  bool saw_inlined_classify = false;
  for (const InstrumentedSite& s : *sites) {
    StatusOr<SourceFrames> f = (*sym)->SymbolizeReturnAddress(s.pc);
    ASSERT_TRUE(f.ok());
    ASSERT_FALSE(f->empty());
    EXPECT_NE(f->back().function, "??");
    EXPECT_NE(f->back().file.find("fixture_sites.c"), std::string::npos);
    if (f->size() >= 2 && f->front().function == "classify" &&
        f->back().function == "sites_fixture_run") {
      saw_inlined_classify = true;
    }
  }
  EXPECT_TRUE(saw_inlined_classify);
}

TEST(SymbolizerTest, BatchEqualsSingleLookupsAndReportsProgress) {
  auto sym = Symbolizer::Open(SelfPath());
  ASSERT_TRUE(sym.ok());
  auto pcs = AddressesInside(FunctionSymbols(SelfPath()), 9000, 5);
  pcs.push_back(pcs.front());  // a duplicate
  std::vector<SourceFrames> out;
  size_t last_done = 0;
  size_t last_total = 0;
  ASSERT_TRUE((*sym)
                  ->SymbolizeReturnAddresses(pcs, &out,
                                             [&](size_t done, size_t total) {
                                               EXPECT_GE(done, last_done);
                                               last_done = done;
                                               last_total = total;
                                             })
                  .ok());
  ASSERT_EQ(out.size(), pcs.size());
  EXPECT_EQ(last_done, last_total);
  EXPECT_GT(last_total, 0u);
  auto fresh = Symbolizer::Open(SelfPath());
  ASSERT_TRUE(fresh.ok());
  for (size_t i = 0; i < pcs.size(); i += 7) {
    EXPECT_EQ(out[i], (*fresh)->SymbolizeReturnAddress(pcs[i]).value());
    EXPECT_EQ(out[i], (*fresh)->SymbolizeAddress(pcs[i] - 1).value());
  }
}

// A relocatable object (as a kernel module's .ko): .text offsets plus
// SectionAddress(".text") symbolize as `addr2line -j .text OFFSET` does.
TEST(SymbolizerTest, RelocatableObjectThroughItsTextSection) {
  if (!HaveTool("addr2line")) REMCOV_SKIP_OR_FAIL("addr2line not installed");
  size_t checked = 0;
  for (const std::string& obj : RelocatableObjects()) {
    SCOPED_TRACE(obj);
    auto sym = Symbolizer::Open(obj);
    ASSERT_TRUE(sym.ok()) << sym.status().ToString();
    auto text = (*sym)->SectionAddress(".text");
    ASSERT_TRUE(text.ok()) << text.status().ToString();
    auto sites = ListInstrumentedSites(obj);
    ASSERT_TRUE(sites.ok()) << sites.status().ToString();
    ASSERT_FALSE(sites->empty());
    std::string input;
    for (const InstrumentedSite& s : *sites) {
      char buf[32];
      snprintf(buf, sizeof buf, "0x%llx\n",
               static_cast<unsigned long long>(s.pc - 1));
      input += buf;
    }
    bool ok = false;
    const auto want = ParseAddr2line(RunWithInput(
        "addr2line -a -f -i -C -j .text -e '" + obj + "'", input, &ok));
    ASSERT_TRUE(ok);
    ASSERT_EQ(want.size(), sites->size());
    for (const InstrumentedSite& s : *sites) {
      auto got = (*sym)->SymbolizeAddress(*text + s.pc - 1);
      ASSERT_TRUE(got.ok());
      auto it = want.find(s.pc - 1);
      ASSERT_NE(it, want.end());
      // addr2line prints no columns: compare function, file and line.
      auto strip = [](SourceFrames f) {
        for (SourceFrame& x : f) x.column = 0;
        return f;
      };
      EXPECT_EQ(strip(*got), it->second)
          << "offset 0x" << std::hex << s.pc - 1 << ": " << Show(*got)
          << " vs addr2line " << Show(it->second);
      EXPECT_NE(it->second.front().function, "??");
    }
    checked++;
  }
  EXPECT_GT(checked, 0u) << "no relocatable fixture was built";
}

TEST(SymbolizerTest, MissingFileIsAnErrorNamingThePath) {
  auto sym = Symbolizer::Open("/nonexistent/remcov/binary");
  ASSERT_FALSE(sym.ok());
  EXPECT_EQ(sym.status().code(), StatusCode::kNotFound);
  EXPECT_NE(sym.status().message().find("/nonexistent/remcov/binary"),
            std::string::npos);
}

TEST(SymbolizerTest, NonElfIsInvalidArgument) {
  char path[] = "/tmp/remcov_not_elf_XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "hello\n", 6), 6);
  close(fd);
  auto sym = Symbolizer::Open(path);
  unlink(path);
  ASSERT_FALSE(sym.ok());
  EXPECT_EQ(sym.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(sym.status().message().find(path), std::string::npos);
}

}  // namespace
}  // namespace remcov::testing
