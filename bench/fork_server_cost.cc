// SPDX-License-Identifier: Apache-2.0
// The fork server's per-input cost with a device shared across fork: the
// parent keeps the device INIT, each child enables it (after the runtime
// reaps the previous child, which ended without DISABLE), records, and ends.
// Compared in the same run with the same fork/exit/wait loop without a device
// (the fork server's own cost) and with a child that disables before it ends.
// A fourth variant is AFL++'s adaptor's pattern: each child opens a device of
// its own and registers the same common handle (KCOV_REMOTE_ENABLE), which
// the family domain publishes, taking the entry over from the child before.
//   fork_server_cost [children-per-round] [rounds]
// Prints the median wall time per child of each variant and the ratios.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "remcov/remcov.h"

namespace {

double Now() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) +
         static_cast<double>(ts.tv_nsec) * 1e-9;
}

enum class Variant {
  kNoDevice,
  kEnableAndEnd,
  kEnableDisable,
  kOwnRemoteEnable
};

constexpr uint64_t kChildCommon = REMCOV_KCOV_SUBSYSTEM_COMMON | 0x4146;

// A child's own device, registered with kChildCommon: 0 or an exit code.
int OwnRemoteEnable() {
  const int own = remcov_open();
  if (own < 0 || remcov_ioctl(own, REMCOV_KCOV_INIT_TRACE, 1024) != 0) return 5;
  uint64_t buf[3] = {};
  auto* ra = reinterpret_cast<remcov_kcov_remote_arg*>(buf);
  ra->trace_mode = REMCOV_KCOV_TRACE_PC;
  ra->area_size = 1024;
  ra->common_handle = kChildCommon;
  return remcov_ioctl(own, REMCOV_KCOV_REMOTE_ENABLE,
                      reinterpret_cast<unsigned long>(ra)) == 0
             ? 0
             : 6;
}

// Microseconds per child over n children.
double Round(Variant v, int fd, int n) {
  const double t0 = Now();
  for (int i = 0; i < n; i++) {
    pid_t pid = fork();
    if (pid < 0) {
      perror("fork");
      exit(2);
    }
    if (pid == 0) {
      if (v == Variant::kOwnRemoteEnable) _exit(OwnRemoteEnable());
      if (v != Variant::kNoDevice &&
          remcov_ioctl(fd, REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC) != 0)
        _exit(3);
      if (v == Variant::kEnableDisable &&
          remcov_ioctl(fd, REMCOV_KCOV_DISABLE, 0) != 0)
        _exit(4);
      _exit(0);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0) {
      fprintf(stderr, "child failed (status %d)\n", status);
      exit(2);
    }
  }
  return (Now() - t0) * 1e6 / n;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? atoi(argv[1]) : 500;
  const int rounds = argc > 2 ? atoi(argv[2]) : 7;
  if (n <= 0 || rounds <= 0) {
    fprintf(stderr, "usage: fork_server_cost [children-per-round] [rounds]\n");
    return 1;
  }
  int fd = remcov_open();
  if (fd < 0 || remcov_ioctl(fd, REMCOV_KCOV_INIT_TRACE, 1 << 16) != 0) {
    fprintf(stderr, "device: %s\n", strerror(errno));
    return 1;
  }
  std::vector<double> base, reap, clean, own;
  for (int r = 0; r < rounds; r++) {  // interleaved: noise hits all alike
    base.push_back(Round(Variant::kNoDevice, fd, n));
    reap.push_back(Round(Variant::kEnableAndEnd, fd, n));
    clean.push_back(Round(Variant::kEnableDisable, fd, n));
    own.push_back(Round(Variant::kOwnRemoteEnable, fd, n));
  }
  // Then with the pool made in the parent (remcov_prepare_remote), as the
  // AFL++ adaptor does before its fork server starts: against a baseline of
  // its own rounds, interleaved again.
  if (remcov_prepare_remote() != REMCOV_OK) {
    fprintf(stderr, "remcov_prepare_remote failed\n");
    return 1;
  }
  std::vector<double> base2, warm;
  for (int r = 0; r < rounds; r++) {
    base2.push_back(Round(Variant::kNoDevice, fd, n));
    warm.push_back(Round(Variant::kOwnRemoteEnable, fd, n));
  }
  const double b = Median(base), e = Median(reap), c = Median(clean),
               o = Median(own), b2 = Median(base2), w = Median(warm);
  printf("fork+exit+wait, no device:        %8.1f us/child\n", b);
  printf("child ENABLE, ends (next reaps):  %8.1f us/child  %.2fx\n", e, e / b);
  printf("child ENABLE + DISABLE:           %8.1f us/child  %.2fx\n", c, c / b);
  printf("child's own REMOTE_ENABLE, ends:  %8.1f us/child  %.2fx\n", o, o / b);
  printf(
      "  the same, pool made in parent:  %8.1f us/child  %.2fx"
      " (baseline %.1f)\n",
      w, w / b2, b2);
  remcov_device_stats_t st;
  if (remcov_device_stats(fd, &st) == REMCOV_OK)
    printf("owners reaped: %llu\n",
           static_cast<unsigned long long>(st.owner_exits));
  remcov_close(fd);
  return 0;
}
