// SPDX-License-Identifier: Apache-2.0
// Whether the cost of a remote section depends on history: empty sections
// (remcov_remote_start + remcov_remote_stop) with a registered, an
// unregistered and the zero handle (what BindToCollector passes from a thread
// without a collector), timed in a fresh process and again after CYCLES
// KCOV_REMOTE_ENABLE/KCOV_DISABLE cycles with a new handle each (a fuzzer
// that registers a handle per input). Prints, per handle, the median of 7
// timings of N sections each, before and after, and their ratio (the figure
// to read: the machines are shared and noisy, the ratio within one run is
// what compares). The target is a ratio of at most 2 (docs/performance.md).
// Exits 1 when the sections did not do what is timed (the registered handle's
// device must count every section, the others none).
//   handle_churn [CYCLES [N]]        defaults: 100000 cycles, 200000 sections
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

#include "remcov/remcov.h"

namespace {

// Nanoseconds per section, median of 7 runs of n sections with `handle`.
double TimeSections(uint64_t handle, long n) {
  std::vector<double> runs;
  for (int r = 0; r < 7; r++) {
    const auto t0 = std::chrono::steady_clock::now();
    for (long i = 0; i < n; i++) {
      remcov_remote_start(handle);
      remcov_remote_stop();
    }
    const auto t1 = std::chrono::steady_clock::now();
    runs.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count() /
                   static_cast<double>(n));
  }
  std::sort(runs.begin(), runs.end());
  return runs[runs.size() / 2];
}

uint64_t SectionsOf(int fd) {
  remcov_device_stats_t st;
  return remcov_device_stats(fd, &st) == 0 ? st.sections_moved : ~0ull;
}

int Run(int fd, uint64_t registered, uint64_t unregistered, long cycles,
        long n) {
  uint64_t buf[4] = {};
  auto* arg = reinterpret_cast<remcov_kcov_remote_arg*>(buf);
  arg->trace_mode = REMCOV_KCOV_TRACE_PC;
  arg->area_size = 1024;
  arg->num_handles = 1;
  const struct {
    const char* name;
    uint64_t handle;
  } kinds[] = {
      {"registered", registered}, {"unregistered", unregistered}, {"zero", 0}};
  double fresh[3], churned[3];
  uint64_t sections = SectionsOf(fd);
  for (int k = 0; k < 3; k++) fresh[k] = TimeSections(kinds[k].handle, n);
  // The churn: another device, a new handle per cycle.
  int churn = remcov_open();
  if (churn < 0 || remcov_ioctl(churn, REMCOV_KCOV_INIT_TRACE, 1 << 12) != 0) {
    perror("handle_churn: churn device");
    return 1;
  }
  for (long i = 0; i < cycles; i++) {
    buf[3] = remcov_kcov_remote_handle(REMCOV_KCOV_SUBSYSTEM_USB,
                                       0x100000 + static_cast<uint64_t>(i));
    if (remcov_ioctl(churn, REMCOV_KCOV_REMOTE_ENABLE,
                     reinterpret_cast<unsigned long>(buf)) != 0 ||
        remcov_ioctl(churn, REMCOV_KCOV_DISABLE, 0) != 0) {
      fprintf(stderr, "handle_churn: cycle %ld failed\n", i);
      return 1;
    }
  }
  for (int k = 0; k < 3; k++) churned[k] = TimeSections(kinds[k].handle, n);
  // Only the registered handle's sections reach the device: 2 x 7 x n.
  sections = SectionsOf(fd) - sections;
  if (sections != 2ull * 7 * static_cast<uint64_t>(n)) {
    fprintf(stderr,
            "handle_churn: the device counted %llu sections, expected %llu\n",
            static_cast<unsigned long long>(sections),
            2ull * 7 * static_cast<unsigned long long>(n));
    return 1;
  }
  printf(
      "| handle (%ld churn cycles) | fresh ns/section | churned ns/section "
      "| churned / fresh |\n|---|---|---|---|\n",
      cycles);
  for (int k = 0; k < 3; k++)
    printf("| %s | %.1f | %.1f | %.2fx |\n", kinds[k].name, fresh[k],
           churned[k], churned[k] / fresh[k]);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const long cycles = argc > 1 ? atol(argv[1]) : 100000;
  const long n = argc > 2 ? atol(argv[2]) : 200000;
  if (argc > 3 || cycles < 0 || n <= 0) {
    fprintf(stderr, "usage: %s [CYCLES [N]]\n", argv[0]);
    return 2;
  }
  const uint64_t registered =
      remcov_kcov_remote_handle(REMCOV_KCOV_SUBSYSTEM_USB, 1);
  const uint64_t unregistered =
      remcov_kcov_remote_handle(REMCOV_KCOV_SUBSYSTEM_USB, 2);
  // The registered handle's owner: a thread that registers it and stays.
  int fd = remcov_open();
  if (fd < 0 || remcov_ioctl(fd, REMCOV_KCOV_INIT_TRACE, 1 << 16) != 0 ||
      remcov_mmap(nullptr, (1 << 16) * sizeof(uint64_t), PROT_READ | PROT_WRITE,
                  MAP_SHARED, fd, 0) == MAP_FAILED) {
    perror("handle_churn: device");
    return 1;
  }
  uint64_t buf[4] = {};
  auto* arg = reinterpret_cast<remcov_kcov_remote_arg*>(buf);
  arg->trace_mode = REMCOV_KCOV_TRACE_PC;
  arg->area_size = 1024;
  arg->num_handles = 1;
  buf[3] = registered;
  // The owner stays alive (a thread that exits disables its device, as a
  // kernel task does) until the end.
  std::promise<int> enabled;
  std::promise<void> done;
  std::thread owner([&] {
    enabled.set_value(remcov_ioctl(fd, REMCOV_KCOV_REMOTE_ENABLE,
                                   reinterpret_cast<unsigned long>(buf)));
    done.get_future().wait();
  });
  const int enable_result = enabled.get_future().get();
  const int status =
      enable_result != 0 ? 1 : Run(fd, registered, unregistered, cycles, n);
  if (enable_result != 0) perror("handle_churn: KCOV_REMOTE_ENABLE");
  done.set_value();
  owner.join();
  return status;
}
