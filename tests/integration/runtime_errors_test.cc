// SPDX-License-Identifier: Apache-2.0
// One named test per row of the kernel's per-call error table (the errno
// codes of kernel/kcov.c: kcov_ioctl, kcov_ioctl_locked, kcov_mmap), in check
// order, plus the descriptor state machine (kcov_ioctl_locked, kcov_disable,
// kcov_task_exit). The table and the rows that cannot arise in-process are in
// docs/kcov.md.
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "remcov/remcov.h"

#include "fixture.h"
#include "test_util.h"
#include "testing/skip.h"

namespace remcov::testing {
namespace {

constexpr size_t kWords = 4096;  // 32 KiB: whole pages
constexpr size_t kBytes = kWords * sizeof(unsigned long);

int Ioctl(int fd, unsigned long cmd, unsigned long arg, int* err) {
  errno = 0;
  int r = remcov_ioctl(fd, cmd, arg);
  *err = errno;
  return r;
}

#define EXPECT_IOCTL_ERR(fd, cmd, arg, want)       \
  do {                                             \
    int e_;                                        \
    EXPECT_EQ(Ioctl((fd), (cmd), (arg), &e_), -1); \
    EXPECT_EQ(e_, (want)) << strerror(e_);         \
  } while (0)

struct RemoteArgBuf {
  std::vector<uint64_t> words;
  explicit RemoteArgBuf(uint32_t mode, uint32_t area,
                        std::vector<uint64_t> handles, uint64_t common = 0)
      : words(3 + handles.size()) {
    auto* a = reinterpret_cast<remcov_kcov_remote_arg*>(words.data());
    a->trace_mode = mode;
    a->area_size = area;
    a->num_handles = static_cast<uint32_t>(handles.size());
    a->common_handle = common;
    for (size_t i = 0; i < handles.size(); i++) words[3 + i] = handles[i];
  }
  unsigned long arg() { return reinterpret_cast<unsigned long>(words.data()); }
};

uint64_t Usb(uint64_t bus) {
  return remcov_kcov_remote_handle(REMCOV_KCOV_SUBSYSTEM_USB, bus);
}
uint64_t Common(uint64_t id) {
  return remcov_kcov_remote_handle(REMCOV_KCOV_SUBSYSTEM_COMMON, id);
}

// ---- open ----
TEST(ErrorTableTest, OpenReturnsRealDescriptor) {
  int fd = remcov_open();
  ASSERT_GE(fd, 0);
  EXPECT_NE(fcntl(fd, F_GETFD), -1);
  EXPECT_EQ(remcov_close(fd), 0);
}

// In a fork child, which exits without closing: closing 4096 devices one by
// one costs a scan of the descriptor table each (remcov_close looks for
// other descriptors of the file, as the kernel keeps a file while any
// refers to it), which made this test take 30 s.
TEST(ErrorTableTest, OpenEnomemWhenDeviceTableExhausted) {
  struct rlimit rl;
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
  if (rl.rlim_max < 4200) {
    REMCOV_SKIP_OR_FAIL("needs RLIMIT_NOFILE hard limit >= 4200");
  }
  int pipefd[2];
  ASSERT_EQ(pipe(pipefd), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(pipefd[0]);
    struct rlimit raised = {4200, rl.rlim_max};
    if (setrlimit(RLIMIT_NOFILE, &raised) != 0) _exit(2);
    int opened[2] = {0, 0};  // devices opened, then the errno that ended it
    while (remcov_open() >= 0) opened[0]++;
    opened[1] = errno;
    _exit(write(pipefd[1], opened, sizeof opened) == sizeof opened ? 0 : 3);
  }
  close(pipefd[1]);
  int opened[2] = {-1, -1};
  const ssize_t n = read(pipefd[0], opened, sizeof opened);
  close(pipefd[0]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  ASSERT_EQ(n, static_cast<ssize_t>(sizeof opened));
  EXPECT_EQ(opened[1], ENOMEM);
  EXPECT_EQ(opened[0], 4096);  // docs/kcov.md: the runtime's device limit
}

// ---- KCOV_INIT_TRACE ----
TEST(ErrorTableTest, InitTraceSizeBelowTwoIsEinval) {
  RawDevice dummy(kWords);
  int fd = remcov_open();
  EXPECT_IOCTL_ERR(fd, REMCOV_KCOV_INIT_TRACE, 0, EINVAL);
  EXPECT_IOCTL_ERR(fd, REMCOV_KCOV_INIT_TRACE, 1, EINVAL);
  int e;
  EXPECT_EQ(Ioctl(fd, REMCOV_KCOV_INIT_TRACE, 2, &e), 0);
  remcov_close(fd);
}

TEST(ErrorTableTest, InitTraceSizeAboveIntMaxOverWordIsEinval) {
  int fd = remcov_open();
  EXPECT_IOCTL_ERR(fd, REMCOV_KCOV_INIT_TRACE,
                   INT_MAX / sizeof(unsigned long) + 1, EINVAL);
  EXPECT_IOCTL_ERR(fd, REMCOV_KCOV_INIT_TRACE, ~0ul, EINVAL);
  remcov_close(fd);
}

// RLIMIT_AS cannot be lowered under ASan/TSan (their shadow memory needs
// terabytes of address space): the test exists in the other builds only.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define REMCOV_TEST_SHADOW_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define REMCOV_TEST_SHADOW_SANITIZER 1
#endif
#endif
#ifndef REMCOV_TEST_SHADOW_SANITIZER
TEST(ErrorTableTest, InitTraceAllocationFailureIsEnomem) {
  int fd = remcov_open();
  struct rlimit rl;
  ASSERT_EQ(getrlimit(RLIMIT_AS, &rl), 0);
  struct rlimit low = {512ul << 20, rl.rlim_max};  // 512 MiB of address space
  pid_t pid = fork();  // lower the limit in a child only
  if (pid == 0) {
    if (setrlimit(RLIMIT_AS, &low) != 0) _exit(2);
    int r = remcov_ioctl(fd, REMCOV_KCOV_INIT_TRACE,
                         INT_MAX / sizeof(unsigned long));
    _exit(r == -1 && errno == ENOMEM ? 0 : 1);
  }
  int status;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  remcov_close(fd);
}
#endif  // REMCOV_TEST_SHADOW_SANITIZER

TEST(ErrorTableTest, InitTraceTwiceIsEbusy) {
  RawDevice d(kWords);
  EXPECT_IOCTL_ERR(d.fd(), REMCOV_KCOV_INIT_TRACE, kWords, EBUSY);
  EXPECT_IOCTL_ERR(d.fd(), REMCOV_KCOV_INIT_TRACE, 2 * kWords, EBUSY);
}

// ---- mmap ----
TEST(ErrorTableTest, MmapBeforeInitTraceIsEinval) {
  int fd = remcov_open();
  errno = 0;
  EXPECT_EQ(
      remcov_mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0),
      MAP_FAILED);
  EXPECT_EQ(errno, EINVAL);
  remcov_close(fd);
}

TEST(ErrorTableTest, MmapNonZeroOffsetIsEinval) {
  RawDevice d(kWords);
  errno = 0;
  EXPECT_EQ(remcov_mmap(nullptr, kBytes, PROT_READ, MAP_SHARED, d.fd(), 4096),
            MAP_FAILED);
  EXPECT_EQ(errno, EINVAL);
}

TEST(ErrorTableTest, MmapWrongLengthIsEinval) {
  RawDevice d(kWords);
  for (size_t len : {kBytes / 2, kBytes + 4096, size_t{4096}}) {
    errno = 0;
    EXPECT_EQ(remcov_mmap(nullptr, len, PROT_READ, MAP_SHARED, d.fd(), 0),
              MAP_FAILED);
    EXPECT_EQ(errno, EINVAL) << len;
  }
  // The VMA is page-rounded: a length that rounds up to size*word is accepted.
  void* p =
      remcov_mmap(nullptr, kBytes - 100, PROT_READ, MAP_SHARED, d.fd(), 0);
  EXPECT_NE(p, MAP_FAILED);
  if (p != MAP_FAILED) munmap(p, kBytes);
}

TEST(ErrorTableTest, MmapUnalignedSizeNeverMaps) {
  int fd = remcov_open();
  int e;
  ASSERT_EQ(Ioctl(fd, REMCOV_KCOV_INIT_TRACE, 100, &e), 0);  // 800 bytes
  errno = 0;
  EXPECT_EQ(remcov_mmap(nullptr, 800, PROT_READ, MAP_SHARED, fd, 0),
            MAP_FAILED);
  EXPECT_EQ(errno, EINVAL);
  remcov_close(fd);
}

TEST(ErrorTableTest, MmapFailurePassesTheMappingError) {
  RawDevice d(kWords);
  // MAP_FIXED_NOREPLACE over an existing mapping: the kernel's "that error".
  errno = 0;
  EXPECT_EQ(remcov_mmap(d.area(), kBytes, PROT_READ,
                        MAP_SHARED | MAP_FIXED_NOREPLACE, d.fd(), 0),
            MAP_FAILED);
  EXPECT_EQ(errno, EEXIST);
}

TEST(ErrorTableTest, MmapReadOnlyAndRepeatedMappingsAlias) {
  RawDevice d(kWords);
  void* ro = remcov_mmap(nullptr, kBytes, PROT_READ, MAP_SHARED, d.fd(), 0);
  ASSERT_NE(ro, MAP_FAILED);
  d.area()[5] = 0x1234;
  EXPECT_EQ(static_cast<uint64_t*>(ro)[5], 0x1234u);
  munmap(ro, kBytes);
}

// ---- KCOV_ENABLE ----
TEST(ErrorTableTest, EnableBeforeInitTraceIsEinval) {
  int fd = remcov_open();
  EXPECT_IOCTL_ERR(fd, REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC, EINVAL);
  remcov_close(fd);
}

TEST(ErrorTableTest, EnableTwiceOnSameFdIsEinvalNotEbusy) {
  RawDevice d(kWords);
  int e;
  ASSERT_EQ(Ioctl(d.fd(), REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC, &e), 0);
  EXPECT_IOCTL_ERR(d.fd(), REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC, EINVAL);
  EXPECT_EQ(Ioctl(d.fd(), REMCOV_KCOV_DISABLE, 0, &e), 0);
}

TEST(ErrorTableTest, EnableFdEnabledByAnotherThreadIsEinval) {
  RawDevice d(kWords);
  int e;
  ASSERT_EQ(Ioctl(d.fd(), REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC, &e), 0);
  std::thread([&] {
    EXPECT_IOCTL_ERR(d.fd(), REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC, EINVAL);
  }).join();
  EXPECT_EQ(Ioctl(d.fd(), REMCOV_KCOV_DISABLE, 0, &e), 0);
}

TEST(ErrorTableTest, EnableRemoteEnabledFdIsEinval) {
  RawDevice d(kWords);
  RemoteArgBuf ra(REMCOV_KCOV_TRACE_PC, kWords, {Usb(101)});
  int e;
  ASSERT_EQ(Ioctl(d.fd(), REMCOV_KCOV_REMOTE_ENABLE, ra.arg(), &e), 0)
      << strerror(e);
  EXPECT_IOCTL_ERR(d.fd(), REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC, EINVAL);
  EXPECT_EQ(Ioctl(d.fd(), REMCOV_KCOV_DISABLE, 0, &e), 0);
}

TEST(ErrorTableTest, EnableSecondFdOnSameThreadIsEbusy) {
  RawDevice a(kWords), b(kWords);
  int e;
  ASSERT_EQ(Ioctl(a.fd(), REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC, &e), 0);
  EXPECT_IOCTL_ERR(b.fd(), REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC, EBUSY);
  EXPECT_EQ(Ioctl(a.fd(), REMCOV_KCOV_DISABLE, 0, &e), 0);
}

TEST(ErrorTableTest, EnableWhileOwningRemoteIsEbusy) {
  RawDevice a(kWords), b(kWords);
  RemoteArgBuf ra(REMCOV_KCOV_TRACE_PC, kWords, {Usb(102)});
  int e;
  ASSERT_EQ(Ioctl(a.fd(), REMCOV_KCOV_REMOTE_ENABLE, ra.arg(), &e), 0);
  EXPECT_IOCTL_ERR(b.fd(), REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC, EBUSY);
  EXPECT_EQ(Ioctl(a.fd(), REMCOV_KCOV_DISABLE, 0, &e), 0);
}

TEST(ErrorTableTest, EnableBadModeIsEinvalAfterBusyCheck) {
  RawDevice d(kWords);
  EXPECT_IOCTL_ERR(d.fd(), REMCOV_KCOV_ENABLE, 2, EINVAL);
  EXPECT_IOCTL_ERR(d.fd(), REMCOV_KCOV_ENABLE, ~0ul, EINVAL);
  // Check order: EBUSY (thread has a device) comes before the mode check.
  RawDevice other(kWords);
  int e;
  ASSERT_EQ(Ioctl(other.fd(), REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC, &e), 0);
  EXPECT_IOCTL_ERR(d.fd(), REMCOV_KCOV_ENABLE, 2, EBUSY);
  EXPECT_EQ(Ioctl(other.fd(), REMCOV_KCOV_DISABLE, 0, &e), 0);
}

// A malformed value is reported on stderr and the default used: comparisons
// stay available ("yes" is not 0 or 1; it once counted as on for a leading
// '1' only).
TEST(ErrorTableTest, MalformedRuntimeVariableIsReportedAndIgnored) {
  RawDevice d(kWords);
  setenv("REMCOV_NO_COMPARISONS", "yes", 1);
  ::testing::internal::CaptureStderr();
  int e;
  const int rc = Ioctl(d.fd(), REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_CMP, &e);
  const std::string err = ::testing::internal::GetCapturedStderr();
  unsetenv("REMCOV_NO_COMPARISONS");
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(err,
            "remcov: REMCOV_NO_COMPARISONS=yes is not 0 or 1 in [0, 1]; "
            "using 0\n");
  EXPECT_EQ(Ioctl(d.fd(), REMCOV_KCOV_DISABLE, 0, &e), 0);
}

TEST(ErrorTableTest, EnableCmpWithoutComparisonSupportIsEnotsupp) {
  RawDevice d(kWords);
  setenv("REMCOV_NO_COMPARISONS", "1", 1);
  EXPECT_IOCTL_ERR(d.fd(), REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_CMP,
                   REMCOV_ENOTSUPP);
  unsetenv("REMCOV_NO_COMPARISONS");
  int e;
  EXPECT_EQ(Ioctl(d.fd(), REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_CMP, &e), 0);
  EXPECT_EQ(Ioctl(d.fd(), REMCOV_KCOV_DISABLE, 0, &e), 0);
}

// ---- KCOV_DISABLE ----
TEST(ErrorTableTest, DisableWithNonZeroArgIsEinval) {
  RawDevice d(kWords);
  int e;
  ASSERT_EQ(Ioctl(d.fd(), REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC, &e), 0);
  EXPECT_IOCTL_ERR(d.fd(), REMCOV_KCOV_DISABLE, 1, EINVAL);
  EXPECT_EQ(Ioctl(d.fd(), REMCOV_KCOV_DISABLE, 0, &e), 0);
}

TEST(ErrorTableTest, DisableFromAnotherThreadIsEinval) {
  RawDevice d(kWords);
  int e;
  ASSERT_EQ(Ioctl(d.fd(), REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC, &e), 0);
  std::thread([&] {
    EXPECT_IOCTL_ERR(d.fd(), REMCOV_KCOV_DISABLE, 0, EINVAL);
  }).join();
  EXPECT_EQ(Ioctl(d.fd(), REMCOV_KCOV_DISABLE, 0, &e), 0);
}

TEST(ErrorTableTest, DisableWhenNotEnabledIsEinval) {
  RawDevice d(kWords);
  EXPECT_IOCTL_ERR(d.fd(), REMCOV_KCOV_DISABLE, 0, EINVAL);
  int fd = remcov_open();
  EXPECT_IOCTL_ERR(fd, REMCOV_KCOV_DISABLE, 0, EINVAL);
  remcov_close(fd);
}

// ---- KCOV_REMOTE_ENABLE, unlocked prologue ----
TEST(ErrorTableTest, RemoteEnableBadPointerIsEfaultNotACrash) {
  RawDevice d(kWords);
  EXPECT_IOCTL_ERR(d.fd(), REMCOV_KCOV_REMOTE_ENABLE, 8, EFAULT);
  EXPECT_IOCTL_ERR(d.fd(), REMCOV_KCOV_REMOTE_ENABLE, ~0ul - 64, EFAULT);
}

TEST(ErrorTableTest, RemoteEnableTooManyHandlesIsEinval) {
  RawDevice d(kWords);
  std::vector<uint64_t> handles;
  for (uint64_t i = 0; i < 257; i++) handles.push_back(Usb(1000 + i));
  RemoteArgBuf ra(REMCOV_KCOV_TRACE_PC, kWords, handles);
  EXPECT_IOCTL_ERR(d.fd(), REMCOV_KCOV_REMOTE_ENABLE, ra.arg(), EINVAL);
}

TEST(ErrorTableTest, RemoteEnableHandlesRunningIntoUnmappedMemoryIsEfault) {
  RawDevice d(kWords);
  long page = sysconf(_SC_PAGESIZE);
  char* two = static_cast<char*>(mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE,
                                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  ASSERT_NE(two, MAP_FAILED);
  ASSERT_EQ(munmap(two + page, page), 0);
  // The 24-byte header fits at the end of the first page; the handles do not.
  auto* ra = reinterpret_cast<remcov_kcov_remote_arg*>(two + page - 24);
  ra->trace_mode = REMCOV_KCOV_TRACE_PC;
  ra->area_size = kWords;
  ra->num_handles = 4;
  ra->common_handle = 0;
  EXPECT_IOCTL_ERR(d.fd(), REMCOV_KCOV_REMOTE_ENABLE,
                   reinterpret_cast<unsigned long>(ra), EFAULT);
  munmap(two, page);
}

// ---- KCOV_REMOTE_ENABLE, locked part ----
TEST(ErrorTableTest, RemoteEnableBeforeInitTraceIsEinval) {
  int fd = remcov_open();
  RemoteArgBuf ra(REMCOV_KCOV_TRACE_PC, kWords, {Usb(103)});
  EXPECT_IOCTL_ERR(fd, REMCOV_KCOV_REMOTE_ENABLE, ra.arg(), EINVAL);
  remcov_close(fd);
}

TEST(ErrorTableTest, SecondRemoteEnableOnSameFdIsEinval) {
  RawDevice d(kWords);
  RemoteArgBuf ra(REMCOV_KCOV_TRACE_PC, kWords, {Usb(104)});
  RemoteArgBuf rb(REMCOV_KCOV_TRACE_PC, kWords, {Usb(105)});
  int e;
  ASSERT_EQ(Ioctl(d.fd(), REMCOV_KCOV_REMOTE_ENABLE, ra.arg(), &e), 0);
  EXPECT_IOCTL_ERR(d.fd(), REMCOV_KCOV_REMOTE_ENABLE, rb.arg(), EINVAL);
  EXPECT_EQ(Ioctl(d.fd(), REMCOV_KCOV_DISABLE, 0, &e), 0);
}

TEST(ErrorTableTest, RemoteEnableOnThreadWithLocalDeviceIsEbusy) {
  RawDevice a(kWords), b(kWords);
  int e;
  ASSERT_EQ(Ioctl(a.fd(), REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC, &e), 0);
  RemoteArgBuf ra(REMCOV_KCOV_TRACE_PC, kWords, {Usb(106)});
  EXPECT_IOCTL_ERR(b.fd(), REMCOV_KCOV_REMOTE_ENABLE, ra.arg(), EBUSY);
  EXPECT_EQ(Ioctl(a.fd(), REMCOV_KCOV_DISABLE, 0, &e), 0);
}

TEST(ErrorTableTest, RemoteEnableBadTraceModeIsEinvalOrEnotsupp) {
  RawDevice d(kWords);
  RemoteArgBuf bad(7, kWords, {Usb(107)});
  EXPECT_IOCTL_ERR(d.fd(), REMCOV_KCOV_REMOTE_ENABLE, bad.arg(), EINVAL);
  setenv("REMCOV_NO_COMPARISONS", "1", 1);
  RemoteArgBuf cmp(REMCOV_KCOV_TRACE_CMP, kWords, {Usb(107)});
  EXPECT_IOCTL_ERR(d.fd(), REMCOV_KCOV_REMOTE_ENABLE, cmp.arg(),
                   REMCOV_ENOTSUPP);
  unsetenv("REMCOV_NO_COMPARISONS");
}

TEST(ErrorTableTest, RemoteEnableInvalidHandleIsEinvalWithRollback) {
  RawDevice d(kWords);
  const uint64_t invalid[] = {Common(5),              // COMMON in handles[]
                              0,                      // zero
                              Usb(1) | (1ull << 40),  // reserved bits
                              (2ull << 56) | 1};      // unknown subsystem
  int e;
  for (uint64_t h : invalid) {
    // Usb(108) is registered first and must be rolled back.
    RemoteArgBuf ra(REMCOV_KCOV_TRACE_PC, kWords, {Usb(108), h});
    EXPECT_IOCTL_ERR(d.fd(), REMCOV_KCOV_REMOTE_ENABLE, ra.arg(), EINVAL);
  }
  // Rolled back: the fd is INIT again and Usb(108) is free.
  RawDevice other(kWords);
  std::thread([&] {
    RemoteArgBuf ok(REMCOV_KCOV_TRACE_PC, kWords, {Usb(108)});
    EXPECT_EQ(Ioctl(other.fd(), REMCOV_KCOV_REMOTE_ENABLE, ok.arg(), &e), 0)
        << strerror(e);
    EXPECT_EQ(Ioctl(other.fd(), REMCOV_KCOV_DISABLE, 0, &e), 0);
  }).join();
  RemoteArgBuf again(REMCOV_KCOV_TRACE_PC, kWords, {Usb(108)});
  EXPECT_EQ(Ioctl(d.fd(), REMCOV_KCOV_REMOTE_ENABLE, again.arg(), &e), 0);
  EXPECT_EQ(remcov_common_handle(), 0u);
  EXPECT_EQ(Ioctl(d.fd(), REMCOV_KCOV_DISABLE, 0, &e), 0);
}

TEST(ErrorTableTest, RemoteEnableHandleTakenByAnotherFdIsEexist) {
  RawDevice a(kWords), b(kWords);
  int e;
  RemoteArgBuf ra(REMCOV_KCOV_TRACE_PC, kWords, {Usb(109)});
  ASSERT_EQ(Ioctl(a.fd(), REMCOV_KCOV_REMOTE_ENABLE, ra.arg(), &e), 0);
  std::thread([&] {
    RemoteArgBuf rb(REMCOV_KCOV_TRACE_PC, kWords, {Usb(110), Usb(109)});
    EXPECT_IOCTL_ERR(b.fd(), REMCOV_KCOV_REMOTE_ENABLE, rb.arg(), EEXIST);
    // Rollback freed Usb(110).
    RemoteArgBuf rc(REMCOV_KCOV_TRACE_PC, kWords, {Usb(110)});
    EXPECT_EQ(Ioctl(b.fd(), REMCOV_KCOV_REMOTE_ENABLE, rc.arg(), &e), 0);
    EXPECT_EQ(Ioctl(b.fd(), REMCOV_KCOV_DISABLE, 0, &e), 0);
  }).join();
  EXPECT_EQ(Ioctl(a.fd(), REMCOV_KCOV_DISABLE, 0, &e), 0);
}

TEST(ErrorTableTest, RemoteEnableDuplicateHandleInOneCallIsEexist) {
  RawDevice d(kWords);
  RemoteArgBuf ra(REMCOV_KCOV_TRACE_PC, kWords, {Usb(111), Usb(111)});
  EXPECT_IOCTL_ERR(d.fd(), REMCOV_KCOV_REMOTE_ENABLE, ra.arg(), EEXIST);
}

TEST(ErrorTableTest, RemoteEnableHandleTableFullIsEnomem) {
  // The kernel's GFP_ATOMIC map allocation failure: here the handle table
  // (8192 slots, 6144 live handles) is full. 24 owner threads x 256 handles.
  constexpr int kOwners = 24;
  std::vector<std::unique_ptr<RawDevice>> devs;
  for (int i = 0; i < kOwners + 1; i++)
    devs.push_back(std::make_unique<RawDevice>(1024));
  std::atomic<int> registered{0};
  std::atomic<bool> release{false};
  std::vector<std::thread> owners;
  for (int i = 0; i < kOwners; i++) {
    owners.emplace_back([&, i] {
      std::vector<uint64_t> hs;
      for (uint64_t j = 0; j < 256; j++)
        hs.push_back(Usb(0x100000 + i * 256 + j));
      RemoteArgBuf ra(REMCOV_KCOV_TRACE_PC, 1024, hs);
      int e;
      if (Ioctl(devs[i]->fd(), REMCOV_KCOV_REMOTE_ENABLE, ra.arg(), &e) == 0)
        registered++;
      while (!release.load()) std::this_thread::yield();
      Ioctl(devs[i]->fd(), REMCOV_KCOV_DISABLE, 0, &e);
    });
  }
  while (registered.load() < kOwners) std::this_thread::yield();
  RemoteArgBuf last(REMCOV_KCOV_TRACE_PC, 1024, {Usb(0x200000)});
  EXPECT_IOCTL_ERR(devs[kOwners]->fd(), REMCOV_KCOV_REMOTE_ENABLE, last.arg(),
                   ENOMEM);
  release = true;
  for (auto& t : owners) t.join();
  int e;
  EXPECT_EQ(
      Ioctl(devs[kOwners]->fd(), REMCOV_KCOV_REMOTE_ENABLE, last.arg(), &e), 0);
  EXPECT_EQ(Ioctl(devs[kOwners]->fd(), REMCOV_KCOV_DISABLE, 0, &e), 0);
}

TEST(ErrorTableTest, RemoteEnableInvalidCommonHandleIsEinval) {
  RawDevice d(kWords);
  for (uint64_t common : {Usb(5), uint64_t{Common(1) | (1ull << 33)},
                          uint64_t{(3ull << 56) | 9}}) {
    RemoteArgBuf ra(REMCOV_KCOV_TRACE_PC, kWords, {Usb(112)}, common);
    EXPECT_IOCTL_ERR(d.fd(), REMCOV_KCOV_REMOTE_ENABLE, ra.arg(), EINVAL);
  }
}

TEST(ErrorTableTest, RemoteEnableCommonHandleTakenIsEexist) {
  RawDevice a(kWords), b(kWords);
  int e;
  RemoteArgBuf ra(REMCOV_KCOV_TRACE_PC, kWords, {}, Common(0x77));
  ASSERT_EQ(Ioctl(a.fd(), REMCOV_KCOV_REMOTE_ENABLE, ra.arg(), &e), 0);
  EXPECT_EQ(remcov_common_handle(), Common(0x77));
  std::thread([&] {
    RemoteArgBuf rb(REMCOV_KCOV_TRACE_PC, kWords, {}, Common(0x77));
    EXPECT_IOCTL_ERR(b.fd(), REMCOV_KCOV_REMOTE_ENABLE, rb.arg(), EEXIST);
    EXPECT_EQ(remcov_common_handle(), 0u);
  }).join();
  EXPECT_EQ(Ioctl(a.fd(), REMCOV_KCOV_DISABLE, 0, &e), 0);
  EXPECT_EQ(remcov_common_handle(), 0u);  // kcov_task_reset clears kcov_handle
}

// ---- other commands and descriptors ----
TEST(ErrorTableTest, UnknownCommandIsEnotty) {
  RawDevice d(kWords);
  EXPECT_IOCTL_ERR(d.fd(), 0x1234, 0, ENOTTY);
  EXPECT_IOCTL_ERR(d.fd(), REMCOV_KCOV_RESET_TRACE, 0, ENOTTY);
  EXPECT_IOCTL_ERR(d.fd(), REMCOV_KCOV_UNIQUE_ENABLE, 16, ENOTTY);
  EXPECT_IOCTL_ERR(d.fd(), REMCOV_KCOV_INIT_TRACE32, kWords, ENOTTY);
}

// ---- the descriptor first (the VFS, before kcov's file operations) ----

// Arguments that each command's own checks reject (EINVAL, EFAULT): none of
// them may be looked at before the descriptor.
struct BadCall {
  const char* what;
  unsigned long cmd;
  unsigned long arg;
};
std::vector<BadCall> BadCalls(RemoteArgBuf* too_many) {
  return {
      {"INIT_TRACE size 0", REMCOV_KCOV_INIT_TRACE, 0},
      {"ENABLE bad mode", REMCOV_KCOV_ENABLE, 7},
      {"DISABLE arg 1", REMCOV_KCOV_DISABLE, 1},
      {"REMOTE_ENABLE NULL", REMCOV_KCOV_REMOTE_ENABLE, 0},
      {"REMOTE_ENABLE bad pointer", REMCOV_KCOV_REMOTE_ENABLE, ~0ul - 64},
      {"REMOTE_ENABLE 300 handles", REMCOV_KCOV_REMOTE_ENABLE, too_many->arg()},
      {"UNIQUE_ENABLE 0 words", REMCOV_KCOV_UNIQUE_ENABLE, 0},
      {"RESET_TRACE", REMCOV_KCOV_RESET_TRACE, 0},
      {"unknown command", 0x1234, 0},
  };
}

RemoteArgBuf TooManyHandles() {
  std::vector<uint64_t> handles;
  for (uint64_t i = 0; i < 300; i++) handles.push_back(Usb(2000 + i));
  return RemoteArgBuf(REMCOV_KCOV_TRACE_PC, kWords, handles);
}

TEST(ErrorTableTest, ClosedOrInvalidDescriptorIsEbadfBeforeAnyArgumentCheck) {
  RemoteArgBuf too_many = TooManyHandles();
  int closed_device = remcov_open();
  ASSERT_GE(closed_device, 0);
  ASSERT_EQ(remcov_close(closed_device), 0);
  // A device closed with a plain close(2): the runtime still has it indexed.
  int leaked_device = remcov_open();
  ASSERT_GE(leaked_device, 0);
  ASSERT_EQ(close(leaked_device), 0);
  for (const BadCall& c : BadCalls(&too_many)) {
    for (int fd : {-1, -2, INT_MAX, closed_device, leaked_device}) {
      if (fd == closed_device || fd == leaked_device) {
        ASSERT_EQ(fcntl(fd, F_GETFD), -1) << "descriptor reused by the test";
      }
      SCOPED_TRACE(::testing::Message() << c.what << ", fd " << fd);
      EXPECT_IOCTL_ERR(fd, c.cmd, c.arg, EBADF);
    }
  }
}

TEST(ErrorTableTest, ForeignDescriptorGetsThatFilesOwnIoctlAnswer) {
  RemoteArgBuf too_many = TooManyHandles();
  int dev_null = open("/dev/null", O_RDWR | O_CLOEXEC);
  ASSERT_GE(dev_null, 0);
  // /dev/null has no ioctl: ENOTTY for every command, whatever the argument.
  for (const BadCall& c : BadCalls(&too_many)) {
    SCOPED_TRACE(c.what);
    EXPECT_IOCTL_ERR(dev_null, c.cmd, c.arg, ENOTTY);
  }
  // Other files: remcov_ioctl answers exactly as ioctl(2) on the same file.
  int pipefd[2];
  ASSERT_EQ(pipe2(pipefd, O_CLOEXEC), 0);
  int sock[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sock), 0);
  FILE* file = tmpfile();
  ASSERT_NE(file, nullptr);
  int memfd = static_cast<int>(syscall(SYS_memfd_create, "not-a-device", 0));
  ASSERT_GE(memfd, 0);
  for (int fd : {dev_null, pipefd[0], sock[0], fileno(file), memfd}) {
    for (const BadCall& c : BadCalls(&too_many)) {
      SCOPED_TRACE(::testing::Message() << c.what << ", fd " << fd);
      errno = 0;
      int want = ioctl(fd, c.cmd, c.arg);
      int want_errno = errno;
      int e;
      EXPECT_EQ(Ioctl(fd, c.cmd, c.arg, &e), want);
      EXPECT_EQ(e, want_errno) << strerror(e);
    }
  }
  // A command the file implements succeeds through remcov_ioctl: FIONREAD.
  ASSERT_EQ(write(pipefd[1], "hello", 5), 5);
  int queued = 0;
  EXPECT_EQ(remcov_ioctl(pipefd[0], FIONREAD,
                         reinterpret_cast<unsigned long>(&queued)),
            0);
  EXPECT_EQ(queued, 5);
  close(memfd);
  fclose(file);
  close(sock[0]);
  close(sock[1]);
  close(pipefd[0]);
  close(pipefd[1]);
  close(dev_null);
}

TEST(ErrorTableTest, ReusedDescriptorNumberIsTheNewFileNotTheDevice) {
  int fd = remcov_open();
  ASSERT_GE(fd, 0);
  ASSERT_EQ(close(fd), 0);  // plain close: the runtime does not see it
  int pipefd[2];
  ASSERT_EQ(pipe2(pipefd, O_CLOEXEC), 0);
  int reused = pipefd[0] == fd ? pipefd[0] : dup2(pipefd[0], fd);
  ASSERT_EQ(reused, fd);
  // The pipe's own answers, not the device's (which would accept these).
  EXPECT_IOCTL_ERR(fd, REMCOV_KCOV_INIT_TRACE, kWords, ENOTTY);
  errno = 0;
  EXPECT_EQ(remcov_mmap(nullptr, kBytes, PROT_READ, MAP_SHARED, fd, 0),
            MAP_FAILED);
  EXPECT_EQ(errno, ENODEV);
  EXPECT_EQ(remcov_close(fd), 0);  // closes the pipe end
  EXPECT_EQ(fcntl(fd, F_GETFD), -1);
  if (pipefd[0] != fd) close(pipefd[0]);
  close(pipefd[1]);
}

TEST(ErrorTableTest, MmapChecksTheDescriptorFirstThenGivesTheFilesAnswer) {
  int closed_device = remcov_open();
  ASSERT_GE(closed_device, 0);
  ASSERT_EQ(remcov_close(closed_device), 0);
  ASSERT_EQ(fcntl(closed_device, F_GETFD), -1);
  // Offset and length that kcov_mmap would reject: the descriptor comes first.
  for (int fd : {-1, closed_device}) {
    errno = 0;
    EXPECT_EQ(remcov_mmap(nullptr, 100, PROT_READ, MAP_SHARED, fd, 4096),
              MAP_FAILED);
    EXPECT_EQ(errno, EBADF) << fd;
  }
  // A pipe has no mmap: ENODEV, as mmap(2) answers.
  int pipefd[2];
  ASSERT_EQ(pipe2(pipefd, O_CLOEXEC), 0);
  errno = 0;
  EXPECT_EQ(remcov_mmap(nullptr, kBytes, PROT_READ, MAP_SHARED, pipefd[0], 0),
            MAP_FAILED);
  EXPECT_EQ(errno, ENODEV);
  close(pipefd[0]);
  close(pipefd[1]);
  // A regular file is mapped as mmap(2) maps it: its own contents.
  FILE* file = tmpfile();
  ASSERT_NE(file, nullptr);
  ASSERT_EQ(fwrite("remcov", 1, 6, file), 6u);
  ASSERT_EQ(fflush(file), 0);
  void* p = remcov_mmap(nullptr, 4096, PROT_READ, MAP_SHARED, fileno(file), 0);
  ASSERT_NE(p, MAP_FAILED);
  EXPECT_EQ(memcmp(p, "remcov", 6), 0);
  munmap(p, 4096);
  fclose(file);
  // MAP_ANONYMOUS ignores the descriptor, even a device's.
  RawDevice d(kWords);
  for (int fd : {-1, d.fd()}) {
    auto* anon = static_cast<uint64_t*>(
        remcov_mmap(nullptr, 4096, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS, fd, 0));
    ASSERT_NE(anon, MAP_FAILED) << fd;
    anon[0] = 42;
    EXPECT_NE(d.area()[0], 42u);  // not the device's area
    munmap(anon, 4096);
  }
}

TEST(ErrorTableTest, CloseOfNonDeviceIsPlainClose) {
  errno = 0;
  EXPECT_EQ(remcov_close(-1), -1);
  EXPECT_EQ(errno, EBADF);
  int pipefd[2];
  ASSERT_EQ(pipe2(pipefd, O_CLOEXEC), 0);
  EXPECT_EQ(remcov_close(pipefd[0]), 0);
  EXPECT_EQ(fcntl(pipefd[0], F_GETFD), -1);
  errno = 0;
  EXPECT_EQ(remcov_close(pipefd[0]), -1);
  EXPECT_EQ(errno, EBADF);
  close(pipefd[1]);
  remcov_device_stats_t stats;
  EXPECT_EQ(remcov_device_stats(-1, &stats), REMCOV_E_NOTFOUND);
}

// ---- state machine (kernel/kcov.c: kcov_ioctl_locked, kcov_task_exit) ----
TEST(StateMachineTest, ReEnableAfterDisableFromAnyThread) {
  RawDevice d(kWords);
  int e;
  for (int round = 0; round < 3; round++) {
    std::thread([&] {
      d.Reset();
      ASSERT_EQ(Ioctl(d.fd(), REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC, &e), 0);
      d.Reset();
      fixture_parse("42", 2);
      ASSERT_EQ(Ioctl(d.fd(), REMCOV_KCOV_DISABLE, 0, &e), 0);
      EXPECT_TRUE(FixtureFunctions(d.Pcs()).count("fixture_digits"));
    }).join();
  }
}

TEST(StateMachineTest, CloseWhileEnabledKeepsCollectingUntilDisableOrExit) {
  int fd = remcov_open();
  int e;
  ASSERT_EQ(Ioctl(fd, REMCOV_KCOV_INIT_TRACE, kWords, &e), 0);
  auto* area = static_cast<uint64_t*>(
      remcov_mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
  ASSERT_NE(area, MAP_FAILED);
  std::thread([&] {
    ASSERT_EQ(Ioctl(fd, REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC, &e), 0);
    ASSERT_EQ(remcov_close(fd), 0);
    area[0] = 0;
    fixture_parse("abc", 3);
    EXPECT_GT(area[0], 0u);
    std::vector<uint64_t> pcs(area + 1, area + 1 + area[0]);
    EXPECT_TRUE(FixtureFunctions(pcs).count("fixture_letters"));
  }).join();  // thread exit disables and frees the device
  area[0] = 0;
  fixture_parse("abc", 3);
  EXPECT_EQ(area[0], 0u);
  munmap(area, kBytes);
}

TEST(StateMachineTest, ThreadExitDisablesAndTheFdCanBeEnabledAgain) {
  RawDevice d(kWords);
  int e;
  std::thread([&] {
    ASSERT_EQ(Ioctl(d.fd(), REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC, &e), 0);
  }).join();
  ASSERT_EQ(Ioctl(d.fd(), REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC, &e), 0)
      << strerror(e);
  EXPECT_EQ(Ioctl(d.fd(), REMCOV_KCOV_DISABLE, 0, &e), 0);
}

TEST(StateMachineTest, ThreadExitOfRemoteOwnerUnregistersHandles) {
  RawDevice a(kWords), b(kWords);
  int e;
  std::thread([&] {
    RemoteArgBuf ra(REMCOV_KCOV_TRACE_PC, kWords, {Usb(113)});
    ASSERT_EQ(Ioctl(a.fd(), REMCOV_KCOV_REMOTE_ENABLE, ra.arg(), &e), 0);
  }).join();
  RemoteArgBuf rb(REMCOV_KCOV_TRACE_PC, kWords, {Usb(113)});
  EXPECT_EQ(Ioctl(b.fd(), REMCOV_KCOV_REMOTE_ENABLE, rb.arg(), &e), 0)
      << strerror(e);
  EXPECT_EQ(Ioctl(b.fd(), REMCOV_KCOV_DISABLE, 0, &e), 0);
}

TEST(StateMachineTest, ForkGivesTheChildACleanState) {
  RawDevice d(kWords);
  int e;
  ASSERT_EQ(Ioctl(d.fd(), REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC, &e), 0);
  pid_t pid = fork();
  if (pid == 0) {
    // Not traced in the child, cannot disable the parent's device, can use a
    // new device of its own.
    uint64_t before = d.area()[0];
    fixture_parse("123", 3);
    if (d.area()[0] != before) _exit(1);
    if (remcov_ioctl(d.fd(), REMCOV_KCOV_DISABLE, 0) != -1 || errno != EINVAL)
      _exit(2);
    int fd = remcov_open();
    if (fd < 0 || remcov_ioctl(fd, REMCOV_KCOV_INIT_TRACE, kWords) != 0)
      _exit(3);
    if (remcov_ioctl(fd, REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC) != 0)
      _exit(4);
    _exit(0);
  }
  int status;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(Ioctl(d.fd(), REMCOV_KCOV_DISABLE, 0, &e), 0);
}

}  // namespace
}  // namespace remcov::testing

namespace remcov::testing {
namespace {

TEST(AdoptAreaTest, AnAdoptedFileIsADeviceWhoseAreaOthersMapLive) {
  const size_t words = 1024, bytes = words * sizeof(unsigned long);
  int fd = static_cast<int>(syscall(SYS_memfd_create, "adopt-test", 0));
  ASSERT_GE(fd, 0);
  long page = sysconf(_SC_PAGESIZE);
  ASSERT_EQ(ftruncate(fd, static_cast<off_t>(bytes + page)), 0);  // + trailer
  // Another "process" view: a plain mapping of the file.
  auto* view = static_cast<uint64_t*>(
      mmap(nullptr, bytes + page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
  ASSERT_NE(view, MAP_FAILED);
  view[words] = 0xfeed;  // first word after the area: must survive
  ASSERT_EQ(remcov_rt_adopt_area(fd), fd);
  ASSERT_EQ(remcov_ioctl(fd, REMCOV_KCOV_INIT_TRACE, words), 0);
  struct stat st;
  ASSERT_EQ(fstat(fd, &st), 0);
  EXPECT_EQ(static_cast<size_t>(st.st_size), bytes + page);  // never shrunk
  ASSERT_EQ(remcov_ioctl(fd, REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC), 0);
  fixture_parse("5", 1);
  ASSERT_EQ(remcov_ioctl(fd, REMCOV_KCOV_DISABLE, 0), 0);
  uint64_t n =
      std::atomic_ref<uint64_t>(view[0]).load(std::memory_order_acquire);
  ASSERT_GT(n, 0u);
  std::vector<uint64_t> pcs(view + 1, view + 1 + n);
  EXPECT_TRUE(FixtureFunctions(pcs).count("fixture_digits"));
  EXPECT_EQ(view[words], 0xfeedu);
  munmap(view, bytes + page);
  EXPECT_EQ(remcov_close(fd), 0);
}

TEST(AdoptAreaTest, OnlyOpenRegularFilesCanBeAdopted) {
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  errno = 0;
  EXPECT_EQ(remcov_rt_adopt_area(p[0]), -1);
  EXPECT_EQ(errno, EINVAL);
  close(p[0]);
  close(p[1]);
  errno = 0;
  EXPECT_EQ(remcov_rt_adopt_area(p[0]), -1);
  EXPECT_EQ(errno, EBADF);
}

}  // namespace
}  // namespace remcov::testing
