// SPDX-License-Identifier: Apache-2.0
// Build-id notes (src/format/elf_build_id.h): how remcov report tells that
// a module was rebuilt since the run.
#include "format/elf_build_id.h"

#include <elf.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <string>

#include <gtest/gtest.h>

#include "testing/skip.h"

namespace remcov::tool {
namespace {

std::string Note(uint32_t type, const char* name, std::string desc) {
  uint32_t h[3] = {static_cast<uint32_t>(strlen(name) + 1),
                   static_cast<uint32_t>(desc.size()), type};
  std::string out(reinterpret_cast<const char*>(h), sizeof h);
  out.append(name, strlen(name) + 1);
  out.resize((out.size() + 3) & ~size_t{3}, '\0');
  out += desc;
  out.resize((out.size() + 3) & ~size_t{3}, '\0');
  return out;
}

TEST(ElfBuildIdTest, FindsTheGnuBuildIdAmongNotes) {
  std::string notes =
      Note(1, "GNU", "abcd") +  // NT_GNU_ABI_TAG-like
      Note(NT_GNU_BUILD_ID, "Xen", "zz") +
      Note(NT_GNU_BUILD_ID, "GNU", std::string("\x01\xab\xff", 3));
  EXPECT_EQ(BuildIdFromNotes(notes), "01abff");
}

TEST(ElfBuildIdTest, TruncatedNotesGiveNothing) {
  std::string notes = Note(NT_GNU_BUILD_ID, "GNU", "0123456789");
  for (size_t n = 0; n < notes.size() - 3; n++)
    EXPECT_EQ(BuildIdFromNotes(notes.substr(0, n)), "") << n;
}

// The test binary's own build-id, as readelf prints it (when the toolchain
// gave it one).
TEST(ElfBuildIdTest, ReadsTheBuildIdOfAnElfFile) {
  char line[512];
  std::string want;
  // Not /proc/self/exe: readelf would read its own.
  std::string cmd = "readelf -n /proc/" + std::to_string(getpid()) + "/exe";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  while (fgets(line, sizeof line, p) != nullptr) {
    const char* k = strstr(line, "Build ID: ");
    if (k != nullptr) {
      want = k + strlen("Build ID: ");
      while (!want.empty() && (want.back() == '\n' || want.back() == ' '))
        want.pop_back();
    }
  }
  pclose(p);
  if (want.empty()) REMCOV_SKIP_OR_FAIL("the test binary has no build-id note");
  auto id = ReadBuildId("/proc/self/exe");
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(*id, want);
}

TEST(ElfBuildIdTest, NonElfAndMissingFilesAreErrors) {
  auto id = ReadBuildId("/proc/self/cmdline");
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().code(), StatusCode::kDataLoss);
  id = ReadBuildId("/nonexistent/vmlinux");
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace remcov::tool
