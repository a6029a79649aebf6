// SPDX-License-Identifier: Apache-2.0
// AFL++'s fork-server protocol, as spoken by afl-fuzz 4.04c (Debian 12's
// afl++ 4.04c-4; the protocol is pinned to that version). The values come
// from AFL++'s sources at tag 4.04c:
//   include/config.h     FORKSRV_FD, MAP_SIZE_POW2, SHM_ENV_VAR,
//                        PERSIST_ENV_VAR, PERSIST_SIG, DEFER_SIG
//   include/types.h      FS_OPT_* (the handshake word), FS_ERROR_*
//   src/afl-forkserver.c afl_fsrv_start (handshake), afl_fsrv_run_target
//   instrumentation/afl-compiler-rt.o.c
//                        __afl_map_shm, __afl_start_forkserver,
//                        __afl_persistent_loop (the target's side)
// Every remcov file that speaks the protocol includes this one; docs/afl.md
// describes the exchange.
#ifndef REMCOV_AFL_AFL_PROTOCOL_H_
#define REMCOV_AFL_AFL_PROTOCOL_H_

#include <stddef.h>
#include <stdint.h>

#include "remcov/afl.h"

namespace remcov::afl {

// The pipes afl-fuzz sets up before exec'ing the target (config.h
// FORKSRV_FD): the target reads commands from kControlFd and writes its
// hello, child pids and wait statuses to kStatusFd.
inline constexpr int kControlFd = 198;
inline constexpr int kStatusFd = kControlFd + 1;

// Environment afl-fuzz sets (config.h): the System V id of the coverage map,
// and "1" when it found kPersistentSignature in the target binary.
inline constexpr char kShmEnvVar[] = "__AFL_SHM_ID";
inline constexpr char kPersistentEnvVar[] = "__AFL_PERSISTENT";
// The System V id of the test-case segment (config.h SHM_FUZZ_ENV_VAR):
// afl-fuzz sets it when it can pass inputs in shared memory.
inline constexpr char kShmFuzzEnvVar[] = "__AFL_SHM_FUZZ_ID";
// That segment: a u32 length, then the input (at most config.h MAX_FILE
// bytes; afl-fuzz-init.c setup_testcase_shmem).
inline constexpr size_t kMaxInput = size_t{1} << 20;

// The binary signatures afl-fuzz scans for (config.h PERSIST_SIG, DEFER_SIG)
// are in the public header, remcov/afl.h, which embeds them through
// __AFL_LOOP and __AFL_INIT: REMCOV_AFL_PERSISTENT_SIG, REMCOV_AFL_DEFER_SIG.

// The hello word (types.h FS_OPT_*). remcov sends kOptEnabled | kOptMapSize |
// MapSizeOption(size), plus kOptShmemFuzz when kShmFuzzEnvVar is set; no
// dictionary, and no FS_OPT_NEWCMPLOG, so `afl-fuzz -c` refuses a remcov
// target at the handshake (CmpLog is not supported; docs/afl.md). After a
// hello with kOptShmemFuzz, afl-fuzz answers kOptEnabled | kOptShmemFuzz
// (afl-forkserver.c afl_fsrv_start) before its first request.
inline constexpr uint32_t kOptEnabled = 0x80000001u;
inline constexpr uint32_t kOptMapSize = 0x40000000u;
inline constexpr uint32_t kOptShmemFuzz = 0x01000000u;
// Largest map the hello can announce (types.h FS_OPT_MAX_MAPSIZE).
inline constexpr uint32_t kOptMaxMapSize = (0x00fffffeu >> 1) + 1;
constexpr uint32_t MapSizeOption(uint32_t size) {
  return size <= 1 || size > kOptMaxMapSize ? 0 : (size - 1) << 1;
}
constexpr uint32_t MapSizeFromOption(uint32_t word) {
  return ((word & 0x00fffffeu) >> 1) + 1;
}
// An error report instead of a hello (types.h FS_OPT_ERROR,
// FS_OPT_SET_ERROR, FS_ERROR_SHMAT): afl-fuzz prints what failed and exits.
inline constexpr uint32_t kOptError = 0xf800008fu;
inline constexpr uint32_t kErrorShmOpen = 4;  // the test-case segment
inline constexpr uint32_t kErrorShmat = 8;    // the map
constexpr uint32_t ErrorWord(uint32_t error) {
  return kOptError | ((error & 0x0000ffffu) << 8);
}

// The map remcov fills: 2^16 one-byte hit counters, AFL++'s default
// (config.h MAP_SIZE_POW2 = 16), announced in the hello.
inline constexpr unsigned kMapBits = 16;
inline constexpr size_t kMapSize = size_t{1} << kMapBits;

}  // namespace remcov::afl

#endif  // REMCOV_AFL_AFL_PROTOCOL_H_
