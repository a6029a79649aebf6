// SPDX-License-Identifier: Apache-2.0
// The kernel lane's vmlinux (ET_EXEC, 78 MB, DWARF 4, direct calls to
// __sanitizer_cov_trace_pc): instrumented sites against objdump, and a sample
// of addresses against addr2line. Label heavy-symbolize (objdump -d of the
// whole kernel takes tens of seconds); skipped when the lane has not built a
// kernel on this machine.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "remcov/symbolize.h"

#include "symbolize_test_util.h"
#include "testing/skip.h"

namespace remcov::testing {
namespace {

class VmlinuxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    vmlinux_ = KernelVmlinux();
    if (vmlinux_.empty()) {
      REMCOV_SKIP_OR_FAIL(
          "no vmlinux in $REMCOV_KERNEL_ENV or /var/cache/remcov/kernel/*/ "
          "(the "
          "kernel.build fixture has not built a kernel)");
    }
    if (!HaveTool("addr2line") || !HaveTool("objdump") || !HaveTool("nm")) {
      REMCOV_SKIP_OR_FAIL("binutils (addr2line, nm, objdump) not installed");
    }
  }
  std::string vmlinux_;
};

TEST_F(VmlinuxTest, SitesMatchObjdump) {
  auto sites = ListInstrumentedSites(vmlinux_);
  ASSERT_TRUE(sites.ok()) << sites.status().ToString();
  const SiteMap expected = ObjdumpSites(vmlinux_);
  SiteMap got;
  for (const InstrumentedSite& s : *sites) got[s.pc] = s.kind;
  EXPECT_GT(got.size(), 10000u);  // a KCOV kernel: tens of thousands
  EXPECT_EQ(got.size(), sites->size());
  EXPECT_EQ(got.size(), expected.size());
  EXPECT_TRUE(got == expected);
  size_t pc = 0;
  for (const auto& [address, kind] : got) pc += kind == SiteKind::kPc;
  printf("%s: %zu sites, %zu of them trace_pc (objdump: %zu)\n",
         vmlinux_.c_str(), got.size(), pc, expected.size());
}

TEST_F(VmlinuxTest, SampleMatchesAddr2line) {
  auto sites = ListInstrumentedSites(vmlinux_);
  ASSERT_TRUE(sites.ok()) << sites.status().ToString();
  std::vector<uint64_t> addresses;
  for (size_t i = 0; i < sites->size(); i += 20) {
    addresses.push_back((*sites)[i].pc - 1);  // KCOV PCs are return addresses
  }
  auto inside = AddressesInside(FunctionSymbols(vmlinux_), 8000, 11);
  addresses.insert(addresses.end(), inside.begin(), inside.end());
  const Comparison c = CompareWithAddr2line(vmlinux_, addresses);
  EXPECT_GE(c.total, 10000u);
  ExpectEqual(c);
}

}  // namespace
}  // namespace remcov::testing
