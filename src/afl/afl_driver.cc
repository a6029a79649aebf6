// SPDX-License-Identifier: Apache-2.0
// remcov::afl_driver (and afl_driver_forkserver): a main() for AFL++ around
// a libFuzzer-style harness (docs/afl.md):
//   extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv);  // optional
//   extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
// LLVMFuzzerInitialize runs after the fork server has started, in the
// process that runs inputs: start the service's threads there. Each input
// runs once, under the adaptor's collector.
//
// Under afl-fuzz the input comes from AFL++'s shared-memory test cases when
// afl-fuzz offers them (it does), else from the file named by the first
// argument (`@@`), else from standard input. Run by hand, each argument is a
// file run once (standard input when there is none): a crash reproduces. Exit
// codes: 0 done, 2 an input file cannot be read.
//
// REMCOV_AFL_DRIVER_PERSISTENT=1 (remcov::afl_driver) embeds AFL++'s
// persistent-mode signature through __AFL_LOOP: a fork-server child runs up
// to REMCOV_AFL_ITERATIONS inputs (default 10000). With 0
// (remcov::afl_driver_forkserver) the binary has no signature and afl-fuzz
// forks one child per input.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vector>

#include "remcov/afl.h"

#include "base/env_flags.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int* argc,
                                                          char*** argv);

namespace {

unsigned Iterations() {
  const char* v = getenv(remcov::internal::kAflIterations.name);
  uint64_t n = 0;
  if (!remcov::internal::EnvNumber(remcov::internal::kAflIterations, v, &n)) {
    remcov::internal::PrintEnvNumberError("remcov-afl",
                                          remcov::internal::kAflIterations, v);
    exit(2);
  }
  return static_cast<unsigned>(n);
}

// Reads all of fd from its current offset (afl-fuzz rewinds the shared
// standard input before each input) into *out.
bool ReadFd(int fd, std::vector<uint8_t>* out) {
  out->clear();
  uint8_t buf[65536];
  for (;;) {
    ssize_t r = read(fd, buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return false;
    if (r == 0) return true;
    out->insert(out->end(), buf, buf + r);
  }
}

bool ReadInput(const char* path, std::vector<uint8_t>* out) {
  if (path == nullptr) return ReadFd(0, out);
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ReadFd(fd, out);
  close(fd);
  return ok;
}

[[noreturn]] void CannotRead(const char* path) {
  fprintf(stderr, "remcov-afl: cannot read %s: %s\n",
          path == nullptr ? "standard input" : path, strerror(errno));
  exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  const unsigned iterations = Iterations();
  // Before anything starts a thread: the fork server forks this thread only.
  __AFL_INIT();
  const bool afl = remcov_afl_init() != 0;
  if (LLVMFuzzerInitialize != nullptr) LLVMFuzzerInitialize(&argc, &argv);
  std::vector<uint8_t> input;
  if (!afl) {
    // By hand: every argument once, or standard input.
    for (int i = 1; i < argc || i == 1; i++) {
      const char* path = i < argc ? argv[i] : nullptr;
      if (!ReadInput(path, &input)) CannotRead(path);
      LLVMFuzzerTestOneInput(input.data(), input.size());
    }
    return 0;
  }
  const char* path = argc > 1 ? argv[1] : nullptr;
#if REMCOV_AFL_DRIVER_PERSISTENT
  while (__AFL_LOOP(iterations)) {
#else
  (void)iterations;
  while (remcov_afl_loop(1)) {
#endif
    size_t size = 0;
    if (const uint8_t* shm = remcov_afl_input(&size); shm != nullptr) {
      input.assign(shm, shm + size);  // an exact-size copy (ASan sees it)
    } else if (!ReadInput(path, &input)) {
      CannotRead(path);
    }
    LLVMFuzzerTestOneInput(input.data(), input.size());
  }
  // The harness's threads may still run: leave without running destructors
  // under them.
  fflush(nullptr);
  _exit(0);
}
