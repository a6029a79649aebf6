// SPDX-License-Identifier: Apache-2.0
// What a remote section costs when it runs in another process than its
// collector (a fork child moving into its parent's device, docs/design.md,
// "Remote sections across processes") beside the same section in the
// collector's own process. Each section records one PC and is moved under
// both halves of the move lock.
//   cross_process_section [sections-per-run] [rounds]
// Variants, interleaved per round (wall clock, median over rounds):
//   in-process      one thread of this process runs the sections
//   child process   a fork child runs them (timed inside the child)
//   2 threads       two threads of this process, concurrently (the move
//                   lock's process half contended)
//   2 processes     two fork children, concurrently (the control page's
//                   half contended across processes)
//   domain member   another program image (this binary, started with
//                   posix_spawn in the collector's domain: it shares no
//                   handle table with the collector), whose first section
//                   attaches the device (docs/design.md, "Domains")
// Prints ns per section, the ratios against in-process, and whether the
// device counted every section.
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "remcov/remcov.h"

extern "C" void __sanitizer_cov_trace_pc(void);
extern char** environ;

namespace {

constexpr uint64_t kHandle = REMCOV_KCOV_SUBSYSTEM_USB | 0x7c05;

double Now() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) +
         static_cast<double>(ts.tv_nsec) * 1e-9;
}

// n sections of one PC each; seconds taken.
double RunSections(long n) {
  const double t0 = Now();
  for (long i = 0; i < n; i++) {
    remcov_remote_start(kHandle);
    __sanitizer_cov_trace_pc();
    remcov_remote_stop();
  }
  return Now() - t0;
}

// Runs `procs` children of n sections each at once; the slowest child's
// seconds (each child times itself and reports through a pipe).
double InChildren(int procs, long n) {
  int p[2];
  if (pipe(p) != 0) exit(1);
  std::vector<pid_t> pids;
  for (int i = 0; i < procs; i++) {
    pid_t pid = fork();
    if (pid < 0) exit(1);
    if (pid == 0) {
      const double s = RunSections(n);
      _exit(write(p[1], &s, sizeof s) == sizeof s ? 0 : 1);
    }
    pids.push_back(pid);
  }
  double slowest = 0;
  for (int i = 0; i < procs; i++) {
    double s = 0;
    if (read(p[0], &s, sizeof s) != sizeof s) exit(1);
    slowest = std::max(slowest, s);
  }
  for (pid_t pid : pids) waitpid(pid, nullptr, 0);
  close(p[0]);
  close(p[1]);
  return slowest;
}

// Runs n sections in a member of `domain`: this binary started anew
// (--member N); its seconds.
double InDomainMember(const char* domain, long n) {
  int p[2];
  if (pipe(p) != 0) exit(1);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, p[1], 1);
  std::vector<std::string> env_s = {std::string(REMCOV_DOMAIN_ENV) + "=" +
                                    domain};
  for (char** e = environ; *e != nullptr; e++) env_s.push_back(*e);
  std::vector<char*> env;
  for (auto& e : env_s) env.push_back(e.data());
  env.push_back(nullptr);
  std::string count = std::to_string(n);
  char arg0[] = "cross_process_section", arg1[] = "--member";
  char* argv[] = {arg0, arg1, count.data(), nullptr};
  pid_t pid = -1;
  if (posix_spawn(&pid, "/proc/self/exe", &fa, nullptr, argv, env.data()) != 0)
    exit(1);
  posix_spawn_file_actions_destroy(&fa);
  close(p[1]);
  double s = 0;
  if (read(p[0], &s, sizeof s) != sizeof s) exit(1);
  close(p[0]);
  waitpid(pid, nullptr, 0);
  return s;
}

double InThreads(int threads, long n) {
  std::vector<double> secs(static_cast<size_t>(threads));
  std::vector<std::thread> ts;
  for (int i = 0; i < threads; i++)
    ts.emplace_back([&, i] { secs[static_cast<size_t>(i)] = RunSections(n); });
  for (auto& t : ts) t.join();
  return *std::max_element(secs.begin(), secs.end());
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && strcmp(argv[1], "--member") == 0) {
    const double s = RunSections(atol(argv[2]));
    return write(1, &s, sizeof s) == sizeof s ? 0 : 1;
  }
  const long n = argc > 1 ? atol(argv[1]) : 200000;
  const int rounds = argc > 2 ? atoi(argv[2]) : 7;
  if (n < 1 || rounds < 1) {
    fprintf(stderr, "usage: cross_process_section [sections] [rounds]\n");
    return 2;
  }
  // Room for the largest run (two runners), in whole pages (kcov_mmap maps
  // exactly the area, so its size is a multiple of the page size).
  const unsigned long words =
      (static_cast<unsigned long>(2 * n + 1) + 511) / 512 * 512;
  // The collector's domain, for the member variant (joined before the
  // handle is registered, so the registration is published).
  char dir[] = "/tmp/remcov-xps.XXXXXX";
  if (mkdtemp(dir) == nullptr) return 1;
  const std::string domain = std::string(dir) + "/domain";
  if (remcov_domain_join(domain.c_str()) != REMCOV_OK) {
    perror("remcov_domain_join");
    return 1;
  }
  int fd = remcov_open();
  if (fd < 0 || remcov_ioctl(fd, REMCOV_KCOV_INIT_TRACE, words) != 0) {
    perror("remcov device");
    return 1;
  }
  auto* area = static_cast<unsigned long*>(
      remcov_mmap(nullptr, words * sizeof(unsigned long),
                  PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
  if (area == MAP_FAILED) return 1;
  // The collector: a thread that registered the handle and waits.
  std::atomic<int> phase{0};
  int enable_rc = -1;
  std::thread owner([&] {
    uint64_t buf[4] = {};
    auto* ra = reinterpret_cast<remcov_kcov_remote_arg*>(buf);
    ra->trace_mode = REMCOV_KCOV_TRACE_PC;
    ra->area_size = 64;
    ra->num_handles = 1;
    buf[3] = kHandle;
    enable_rc = remcov_ioctl(fd, REMCOV_KCOV_REMOTE_ENABLE,
                             reinterpret_cast<unsigned long>(ra));
    phase = 1;
    while (phase.load() != 2)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    remcov_ioctl(fd, REMCOV_KCOV_DISABLE, 0);
  });
  while (phase.load() == 0) std::this_thread::yield();
  if (enable_rc != 0) {
    perror("KCOV_REMOTE_ENABLE");
    return 1;
  }
  const char* names[] = {"in-process", "child process", "2 threads",
                         "2 processes", "domain member"};
  constexpr int kVariants = 5;
  std::vector<double> ns[kVariants];
  uint64_t want = 0;
  bool counted = true;
  for (int r = 0; r < rounds; r++) {
    for (int v = 0; v < kVariants; v++) {
      const int k = v == 2 || v == 3 ? 2 : 1;
      __atomic_store_n(&area[0], 0, __ATOMIC_RELAXED);
      const double s = v == 0   ? InThreads(1, n)
                       : v == 1 ? InChildren(1, n)
                       : v == 2 ? InThreads(2, n)
                       : v == 3 ? InChildren(2, n)
                                : InDomainMember(domain.c_str(), n);
      ns[v].push_back(s * 1e9 / static_cast<double>(n));
      want += static_cast<uint64_t>(k * n);
      // Every section's PC is in the area: nothing lost on the way.
      if (__atomic_load_n(&area[0], __ATOMIC_ACQUIRE) !=
          static_cast<unsigned long>(k * n))
        counted = false;
    }
  }
  remcov_device_stats_t st{};
  remcov_device_stats(fd, &st);
  phase = 2;
  owner.join();
  printf(
      "cross-process sections: %ld sections of one PC per run, median of "
      "%d rounds\n\n",
      n, rounds);
  printf(
      "| sections run by | ns per section | vs in-process |\n|---|---|---|\n");
  const double base = Median(ns[0]);
  for (int v = 0; v < kVariants; v++)
    printf("| %s | %.1f | %.2fx |\n", names[v], Median(ns[v]),
           Median(ns[v]) / base);
  const bool ok = st.sections_moved == want && counted;
  printf("\nsections counted: %llu of %llu; %s\n",
         static_cast<unsigned long long>(st.sections_moved),
         static_cast<unsigned long long>(want),
         ok ? "every section arrived whole"
            : "SECTIONS MISSING from the area or the counter");
  unlink(domain.c_str());
  rmdir(dir);
  return ok ? 0 : 1;
}
