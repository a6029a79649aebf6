// SPDX-License-Identifier: Apache-2.0
// The cost of an empty remote section (remcov_remote_start +
// remcov_remote_stop) with an unregistered and with a registered handle,
// against a baseline that does what a straightforward implementation (and the
// kernel, with its global spinlock) does: a mutex-protected std::unordered_map
// lookup at start and a mutex round trip at stop. bench/remote_cost.sh counts
// instructions with callgrind: the difference between N and 0 iterations,
// divided by N. `registered_pc` records one PC in each section (the
// __sanitizer_cov_trace_pc call included), so it takes the move path.
// `throughput` runs T threads of N registered sections each (half of them
// empty, half recording one PC) and prints sections per second (wall clock;
// bench/remote_throughput.sh takes medians).
// After the sections the driver checks that they did what was measured (the
// device counted N sections for a registered handle and none for the
// unregistered one, and holds the N PCs of registered_pc); otherwise it exits
// with 1 and a message, and bench/remote_cost.sh prints no figure.
//   remote_cost <unregistered|registered|registered_pc|baseline> N
//   remote_cost throughput N T
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "remcov/remcov.h"

#include "runtime/callbacks.h"

namespace {

std::mutex g_mu;
std::unordered_map<uint64_t, int>* g_map;

__attribute__((noinline)) void BaselineStart(uint64_t h, int* dev) {
  std::lock_guard<std::mutex> lock(g_mu);
  auto it = g_map->find(h);
  *dev = it == g_map->end() ? -1 : it->second;
}
__attribute__((noinline)) void BaselineStop() {
  std::lock_guard<std::mutex> lock(g_mu);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 && !(argc == 4 && strcmp(argv[1], "throughput") == 0)) {
    fprintf(stderr,
            "usage: %s <unregistered|registered|registered_pc|baseline> N\n"
            "       %s throughput N THREADS\n",
            argv[0], argv[0]);
    return 2;
  }
  const char* mode = argv[1];
  long n = atol(argv[2]);
  bool known = false;
  for (const char* m : {"unregistered", "registered", "registered_pc",
                        "baseline", "throughput"})
    known = known || strcmp(mode, m) == 0;
  const bool throughput = strcmp(mode, "throughput") == 0;
  if (!known || n < 0 || throughput != (argc == 4) ||
      (throughput && atol(argv[3]) <= 0)) {
    fprintf(stderr, "remote_cost: unknown mode %s, or a bad count\n", mode);
    return 2;
  }
  const uint64_t registered =
      remcov_kcov_remote_handle(REMCOV_KCOV_SUBSYSTEM_USB, 1);
  const uint64_t unregistered =
      remcov_kcov_remote_handle(REMCOV_KCOV_SUBSYSTEM_USB, 2);
  // Register one handle (and 255 more, so the map is not trivially empty) from
  // an owner thread that stays alive until the end.
  // The owner and the main thread hand over through pipes, never by spinning:
  // a waiting thread then executes no instructions, so callgrind's count of
  // the run does not depend on how valgrind happened to schedule the threads
  // (a yield loop here made the per-section figure vary by 0.1 between
  // machines).
  int registered_pipe[2], done_pipe[2];
  if (pipe(registered_pipe) != 0 || pipe(done_pipe) != 0) return 1;
  int fd = remcov_open();
  // Room for every PC recorded, so that every non-empty section moves.
  const long threads_arg = argc == 4 ? atol(argv[3]) : 1;
  // Whole pages, as the kernel's mmap check (kcov_mmap) requires.
  const unsigned long words =
      (static_cast<unsigned long>(n * threads_arg) + (1ul << 16) + 511) / 512 *
      512;
  if (fd < 0 || remcov_ioctl(fd, REMCOV_KCOV_INIT_TRACE, words) != 0) return 1;
  auto* area = static_cast<volatile uint64_t*>(
      remcov_mmap(nullptr, words * sizeof(uint64_t), PROT_READ | PROT_WRITE,
                  MAP_SHARED, fd, 0));
  if (area == MAP_FAILED) return 1;
  std::thread owner([&] {
    static uint64_t buf[3 + 256];
    auto* ra = reinterpret_cast<remcov_kcov_remote_arg*>(buf);
    ra->trace_mode = REMCOV_KCOV_TRACE_PC;
    ra->area_size = 1024;
    ra->num_handles = 256;
    buf[3] = registered;
    for (int i = 1; i < 256; i++)
      buf[3 + i] =
          remcov_kcov_remote_handle(REMCOV_KCOV_SUBSYSTEM_USB, 100 + i);
    if (remcov_ioctl(fd, REMCOV_KCOV_REMOTE_ENABLE,
                     reinterpret_cast<unsigned long>(ra)) != 0)
      exit(1);
    char token = 1;
    if (write(registered_pipe[1], &token, 1) != 1 ||
        read(done_pipe[0], &token, 1) != 1)
      exit(1);
    remcov_ioctl(fd, REMCOV_KCOV_DISABLE, 0);
  });
  // After the owner started, a failure exits (returning from main with the
  // owner joinable would abort in std::thread's destructor).
  char token = 0;
  if (read(registered_pipe[0], &token, 1) != 1) {
    perror("remote_cost: waiting for the owner thread");
    exit(1);
  }
  g_map = new std::unordered_map<uint64_t, int>();
  for (int i = 0; i < 256; i++)
    (*g_map)[remcov_kcov_remote_handle(REMCOV_KCOV_SUBSYSTEM_USB, 100 + i)] = i;
  (*g_map)[registered] = 7;
  int sink = 0;
  double rate = 0;  // throughput: sections per second, printed once checked
  if (strcmp(mode, "baseline") == 0) {
    for (long i = 0; i < n; i++) {
      BaselineStart(i & 1 ? registered : unregistered, &sink);
      BaselineStop();
    }
  } else if (strcmp(mode, "registered_pc") == 0) {
    for (long i = 0; i < n; i++) {
      remcov_remote_start(registered);
      __sanitizer_cov_trace_pc();
      remcov_remote_stop();
    }
  } else if (throughput) {
    const int threads = atoi(argv[3]);
    std::atomic<int> go{0};
    std::vector<std::thread> workers;
    for (int w = 0; w < threads; w++) {
      workers.emplace_back([&] {
        while (go.load() == 0) std::this_thread::yield();
        for (long i = 0; i < n; i++) {
          remcov_remote_start(registered);
          if (i & 1) __sanitizer_cov_trace_pc();
          remcov_remote_stop();
        }
      });
    }
    const auto t0 = std::chrono::steady_clock::now();
    go = 1;
    for (auto& w : workers) w.join();
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
            .count();
    rate = static_cast<double>(n) * threads / s;
  } else {
    uint64_t h = strcmp(mode, "registered") == 0 ? registered : unregistered;
    for (long i = 0; i < n; i++) {
      remcov_remote_start(h);
      remcov_remote_stop();
    }
  }
  // What the sections did: sections the device counted, PCs it holds.
  remcov_device_stats_t st{};
  const int stats_rc = remcov_device_stats(fd, &st);
  const uint64_t pcs = area[0];
  if (write(done_pipe[1], &token, 1) != 1) {
    perror("remote_cost: releasing the owner thread");
    exit(1);
  }
  owner.join();
  remcov_close(fd);
  const auto un = static_cast<uint64_t>(n);
  uint64_t want_sections = 0, want_pcs = 0;
  if (strcmp(mode, "registered") == 0) want_sections = un;
  if (strcmp(mode, "registered_pc") == 0) want_sections = want_pcs = un;
  if (throughput) {
    want_sections = un * static_cast<uint64_t>(threads_arg);
    want_pcs = un / 2 * static_cast<uint64_t>(threads_arg);
  }
  // The baseline's last lookup (i = n - 1) found the registered handle's
  // value for odd i, nothing for even i.
  const int want_sink = n == 0 ? 0 : ((n - 1) & 1) != 0 ? 7 : -1;
  if (stats_rc != 0 || st.sections_moved != want_sections || pcs != want_pcs ||
      (strcmp(mode, "baseline") == 0 && sink != want_sink)) {
    fprintf(stderr,
            "remote_cost: %s %ld: the device counted %llu sections and holds "
            "%llu PCs (stats rc %d), expected %llu and %llu\n",
            mode, n, static_cast<unsigned long long>(st.sections_moved),
            static_cast<unsigned long long>(pcs), stats_rc,
            static_cast<unsigned long long>(want_sections),
            static_cast<unsigned long long>(want_pcs));
    return 1;
  }
  if (throughput) printf("%.0f\n", rate);
  return 0;
}
