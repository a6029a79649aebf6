// SPDX-License-Identifier: Apache-2.0
// Helpers for runtime tests: a raw device (C API) with its mapping, and PC to
// fixture-function mapping through dladdr1 (symbol start + size).
#ifndef REMCOV_TESTS_INTEGRATION_TEST_UTIL_H_
#define REMCOV_TESTS_INTEGRATION_TEST_UTIL_H_

#include <stddef.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "remcov/remcov.h"

namespace remcov::testing {

// open + INIT_TRACE + mmap through the C API; closes in the destructor.
class RawDevice {
 public:
  explicit RawDevice(size_t words = 4096);
  ~RawDevice();
  int fd() const { return fd_; }
  uint64_t* area() const { return area_; }
  size_t words() const { return words_; }
  uint64_t Count() const {
    return std::atomic_ref<uint64_t>(area_[0]).load(std::memory_order_acquire);
  }
  void Reset() {
    std::atomic_ref<uint64_t>(area_[0]).store(0, std::memory_order_relaxed);
  }
  std::vector<uint64_t> Pcs() const;
  remcov_device_stats_t Stats() const { return StatsFor(fd_); }
  static remcov_device_stats_t StatsFor(int fd);

 private:
  int fd_ = -1;
  size_t words_ = 0;
  uint64_t* area_ = nullptr;
};

// KCOV_REMOTE_ENABLE of `handles` (and `common`, when not 0) on the calling
// thread: 0, or the errno. For a fork child's only thread, which cannot start
// a RemoteOwner thread under TSan.
int RemoteEnableHere(int fd, const std::vector<uint64_t>& handles,
                     uint64_t common = 0, uint32_t area_words = 4096,
                     uint32_t mode = REMCOV_KCOV_TRACE_PC);

// A thread that owns a remote device: KCOV_REMOTE_ENABLE with the given
// handles and common handle when constructed (returns once registered), and
// KCOV_DISABLE on that thread when destroyed.
class RemoteOwner {
 public:
  RemoteOwner(int fd, std::vector<uint64_t> handles, uint64_t common = 0,
              uint32_t area_words = 4096, uint32_t mode = REMCOV_KCOV_TRACE_PC);
  ~RemoteOwner();
  RemoteOwner(const RemoteOwner&) = delete;
  RemoteOwner& operator=(const RemoteOwner&) = delete;

  // Runs fn on the owner thread and returns when it is done (e.g. fork
  // there: the child inherits the owner's common handle).
  void RunOnOwner(const std::function<void()>& fn);

 private:
  std::atomic<int> phase_{0};  // 0 starting, 1 registered, 2 release
  std::atomic<const std::function<void()>*> job_{nullptr};
  std::thread thread_;
};

// Runs fn() in a fork child and returns its exit code: 100 + the signal if
// it was killed, -1 if it could not be forked or waited for.
template <typename Fn>
int InChild(Fn fn) {
  pid_t pid = fork();
  if (pid == 0) _exit(fn());
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

// Name of the fixture function containing pc, or "" if pc is not in one.
std::string FixtureFunction(uint64_t pc);
// The set of fixture functions among pcs (others ignored).
std::set<std::string> FixtureFunctions(const std::vector<uint64_t>& pcs);

// How many PCs fn() records when run alone under a local trace on this thread
// (a 16K-word device, enabled, reset, fn, disabled).
uint64_t PcsOf(void (*fn)());

struct Rec {
  uint64_t type, arg1, arg2;
  auto operator<=>(const Rec&) const = default;
};
// The comparison records of the area whose ip lies in fixture function fn.
std::multiset<Rec> RecordsIn(const uint64_t* area, const std::string& fn);

// The PCs of domain_member's (domain/domain_member.c) "pcs K pc..." line:
// what one Work() records in the member.
std::vector<uint64_t> ParsePcs(const std::string& line);

}  // namespace remcov::testing

#endif  // REMCOV_TESTS_INTEGRATION_TEST_UTIL_H_
