// SPDX-License-Identifier: Apache-2.0
// The report's module files (report/module_files.h) without the CLI: which
// file each module kind resolves to, the build-id check, and a SourceMap
// over this test's own executable.
#include "report/module_files.h"

#include <fcntl.h>
#include <link.h>
#include <stdlib.h>
#include <unistd.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "format/elf_build_id.h"

namespace remcov::tool {
namespace {

extern "C" __attribute__((noinline)) int module_files_test_probe(int x) {
  return x + 1;
}

std::string SelfPath() {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

CoverageModule Module(ModuleKind kind, std::string path,
                      std::string build_id = "") {
  CoverageModule m;
  m.kind = kind;
  m.path = std::move(path);
  m.build_id = std::move(build_id);
  return m;
}

TEST(ModuleFilesTest, UserModuleIsItsLoadMapPathWhenItExists) {
  const std::string self = SelfPath();
  ASSERT_FALSE(self.empty());
  auto f = ModuleFile({}, Module(ModuleKind::kUser, self));
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(*f, self);
  auto missing =
      ModuleFile({}, Module(ModuleKind::kUser, "/nonexistent/remcov-module"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("/nonexistent/remcov-module"),
            std::string::npos);
}

// The library names no command-line option: it says what is missing, and
// which input, for the CLI to name its option (tools/remcov/report.cc).
void ExpectNoOption(const Status& s) {
  EXPECT_EQ(s.message().find("--"), std::string::npos) << s.message();
}

TEST(ModuleFilesTest, KernelNeedsAnExistingVmlinux) {
  MissingInput missing = MissingInput::kNone;
  auto none = ModuleFile({}, Module(ModuleKind::kKernel, "vmlinux"), &missing);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing, MissingInput::kNoVmlinux);
  EXPECT_NE(none.status().message().find("no kernel image"), std::string::npos);
  ExpectNoOption(none.status());
  auto gone = ModuleFile({.vmlinux = "/nonexistent/vmlinux", .module_dir = ""},
                         Module(ModuleKind::kKernel, "vmlinux"), &missing);
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing, MissingInput::kVmlinuxAbsent);
  EXPECT_NE(gone.status().message().find("/nonexistent/vmlinux"),
            std::string::npos);
  ExpectNoOption(gone.status());
  const std::string self = SelfPath();
  auto given = ModuleFile({.vmlinux = self, .module_dir = ""},
                          Module(ModuleKind::kKernel, "vmlinux"), &missing);
  ASSERT_TRUE(given.ok()) << given.status().ToString();
  EXPECT_EQ(*given, self);
  EXPECT_EQ(missing, MissingInput::kNone);
}

TEST(ModuleFilesTest, KernelModuleIsFoundWithUnderscoresOrDashes) {
  char dir[] = "/tmp/remcov-module-files-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string ko = std::string(dir) + "/foo-bar.ko";
  const int fd = open(ko.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  close(fd);
  auto f = ModuleFile({.vmlinux = "", .module_dir = dir},
                      Module(ModuleKind::kKernelModule, "foo_bar"));
  MissingInput absent_input = MissingInput::kNone;
  MissingInput no_dir_input = MissingInput::kNone;
  auto absent =
      ModuleFile({.vmlinux = "", .module_dir = dir},
                 Module(ModuleKind::kKernelModule, "baz"), &absent_input);
  auto no_dir = ModuleFile({}, Module(ModuleKind::kKernelModule, "foo_bar"),
                           &no_dir_input);
  unlink(ko.c_str());
  rmdir(dir);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(*f, ko);
  ASSERT_FALSE(absent.ok());
  EXPECT_EQ(absent.status().code(), StatusCode::kNotFound);
  EXPECT_NE(absent.status().message().find("no baz.ko in"), std::string::npos);
  EXPECT_EQ(absent_input, MissingInput::kModuleNotInDir);
  ASSERT_FALSE(no_dir.ok());
  EXPECT_EQ(no_dir_input, MissingInput::kNoModuleDir);
  EXPECT_NE(no_dir.status().message().find("foo_bar.ko"), std::string::npos);
  ExpectNoOption(no_dir.status());
}

TEST(ModuleFilesTest, ADifferentBuildIdIsAChangedModule) {
  const std::string self = SelfPath();
  auto id = ReadBuildId(self);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  ASSERT_FALSE(id->empty()) << "the test is linked without a build-id";
  auto same = CheckedModuleFile({}, Module(ModuleKind::kUser, self, *id));
  ASSERT_TRUE(same.ok()) << same.status().ToString();
  auto changed = CheckedModuleFile({}, Module(ModuleKind::kUser, self, "00"));
  ASSERT_FALSE(changed.ok());
  EXPECT_EQ(changed.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(changed.status().message().find("changed since the run"),
            std::string::npos);
}

int MainProgramBias(struct dl_phdr_info* info, size_t, void* data) {
  *static_cast<uintptr_t*>(data) = info->dlpi_addr;
  return 1;  // the first entry is the main program
}

TEST(ModuleFilesTest, OpenedModuleSymbolizesItsOwnFunction) {
  const std::string self = SelfPath();
  auto map = OpenModule({}, Module(ModuleKind::kUser, self));
  ASSERT_TRUE(map.ok()) << map.status().ToString();
  uintptr_t bias = 0;
  dl_iterate_phdr(MainProgramBias, &bias);
  // A return address inside the function: Symbolize looks up pc - 1.
  const uint64_t pc =
      reinterpret_cast<uintptr_t>(&module_files_test_probe) - bias + 1;
  std::vector<SourceFrames> frames;
  const std::vector<uint64_t> pcs = {pc};
  Status s = (*map)->Symbolize(pcs, &frames, {});
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(frames.size(), 1u);
  ASSERT_FALSE(frames[0].empty());
  EXPECT_EQ(frames[0].back().function, "module_files_test_probe");
  EXPECT_NE(frames[0].back().file.find("module_files_test.cc"),
            std::string::npos);
  EXPECT_EQ(module_files_test_probe(1), 2);
}

}  // namespace
}  // namespace remcov::tool
