// SPDX-License-Identifier: Apache-2.0
// KernelLoadMap over FakeSys: /proc/modules, the .text sections and the
// kernel's notes, all through the Sys seam.
#include "kernel_client/kernel_load_map.h"

#include <stdint.h>

#include <string>

#include <gtest/gtest.h>

#include "fake_sys.h"

namespace remcov {
namespace {

// One ELF note: NT_GNU_BUILD_ID (3), name "GNU", the descriptor `id`.
std::string BuildIdNote(const std::string& id) {
  std::string n;
  auto u32 = [&n](uint32_t v) { n.append(reinterpret_cast<char*>(&v), 4); };
  u32(4);
  u32(static_cast<uint32_t>(id.size()));
  u32(3);
  n.append("GNU\0", 4);
  n += id;
  n.resize((n.size() + 3) & ~size_t{3}, '\0');
  return n;
}

TEST(KernelLoadMapTest, ModulesThenVmlinuxFromTheSysSeam) {
  testing::FakeSys sys;
  sys.files["/proc/modules"] =
      "kvm 1000 0 - Live 0xffffffffc0100000\n"
      "hidden 200 0 - Live 0x0000000000000000\n"
      "not a module line\n"
      "e1000 300 0 - Live 0xffffffffc0200000 (O)\n";
  // The .text section moves e1000's PCs; kvm has no readable section file.
  sys.files["/sys/module/e1000/sections/.text"] = "0xffffffffc0201000\n";
  sys.files["/sys/kernel/notes"] = BuildIdNote("\xab\xcd");
  KernelLoadMapResult r = KernelLoadMap(sys, 8);
  ASSERT_EQ(r.modules.size(), 4u);
  EXPECT_EQ(r.hidden_addresses, 1u);
  EXPECT_EQ(r.modules[0].path, "kvm");
  EXPECT_EQ(r.modules[0].kind, ModuleKind::kKernelModule);
  EXPECT_EQ(r.modules[0].start, 0xffffffffc0100000u);
  EXPECT_EQ(r.modules[0].end, 0xffffffffc0100000u + 1000);
  EXPECT_EQ(r.modules[0].bias, 0xffffffffc0100000u);
  EXPECT_EQ(r.modules[1].path, "hidden");
  EXPECT_NE(r.modules[1].flags & kModuleAddressUnknown, 0u);
  EXPECT_EQ(r.modules[2].path, "e1000");
  EXPECT_EQ(r.modules[2].start, 0xffffffffc0201000u);
  EXPECT_EQ(r.modules[3].path, "vmlinux");
  EXPECT_EQ(r.modules[3].kind, ModuleKind::kKernel);
  EXPECT_EQ(r.modules[3].build_id, "abcd");
  EXPECT_EQ(r.modules[3].start, 0xffff800000000000u);
  EXPECT_EQ(r.modules[3].end, ~uint64_t{0});
}

TEST(KernelLoadMapTest, UnreadableFilesLeaveOnlyVmlinux) {
  testing::FakeSys sys;  // serves no file but /proc/kallsyms
  KernelLoadMapResult r = KernelLoadMap(sys, 4);
  ASSERT_EQ(r.modules.size(), 1u);
  EXPECT_EQ(r.hidden_addresses, 0u);
  EXPECT_EQ(r.modules[0].path, "vmlinux");
  EXPECT_EQ(r.modules[0].build_id, "");
  EXPECT_EQ(r.modules[0].start, 0xc0000000u);
  EXPECT_EQ(r.modules[0].end, 0xffffffffu);
}

}  // namespace
}  // namespace remcov
