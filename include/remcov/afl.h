/* SPDX-License-Identifier: Apache-2.0 */
/* The AFL++ adaptor (docs/afl.md): an unmodified afl-fuzz (AFL++ 4.04c's
 * fork-server protocol) fuzzes a target built with
 * -fsanitize-coverage=trace-pc,trace-cmp and linked with remcov. Each input
 * runs once, under one remote collector; what the collector recorded (the
 * input's coverage, wherever it ran, and nothing other threads did) is folded
 * into AFL++'s shared map.
 *
 *   int main(int argc, char** argv) {
 *     __AFL_INIT();                      // the fork server starts here
 *     start_the_service();               // threads: after __AFL_INIT
 *     while (__AFL_LOOP(10000)) {        // the collector covers each pass
 *       read_the_input(); submit_it_and_wait();
 *     }
 *   }
 *
 * remcov::afl_driver supplies such a main around LLVMFuzzerInitialize and
 * LLVMFuzzerTestOneInput (cmake/RemcovAfl.cmake, remcov_add_afl_target).
 *
 * Rules: call __AFL_INIT before the process starts any thread (fork keeps
 * only the calling thread), start the service's threads after it and before
 * the first __AFL_LOOP (threads inherit their creator's common handle, and
 * the loop enables the collector on its thread), and call __AFL_LOOP from
 * one thread. Not thread-safe otherwise. */
#ifndef REMCOV_AFL_H_
#define REMCOV_AFL_H_

#include <stddef.h>
#include <stdint.h>

#include "remcov/export.h"

/* The strings afl-fuzz 4.04c looks for in the target binary (AFL++
 * include/config.h PERSIST_SIG, DEFER_SIG): the first switches it to
 * persistent mode. */
#define REMCOV_AFL_PERSISTENT_SIG "##SIG_AFL_PERSISTENT##"
#define REMCOV_AFL_DEFER_SIG "##SIG_AFL_DEFER_FORKSRV##"

/* Attaches AFL++'s shared map (__AFL_SHM_ID) and starts the fork server when
 * afl-fuzz is there to talk to. Returns 1 in a process that fuzzes for
 * afl-fuzz (the fork server's child, or a run with the map but no fork
 * server), 0 when not run by AFL++ (the loop then runs one pass over a
 * private map). Idempotent; the first __AFL_LOOP calls it if nothing did. */
REMCOV_C_API int remcov_afl_init(void);

/* The persistent loop: returns 1 to run one input, 0 when done. The first
 * call opens and enables the collector on the calling thread; each later
 * call folds the previous input's coverage into the map, then, in persistent
 * mode (afl-fuzz found REMCOV_AFL_PERSISTENT_SIG and runs the fork server),
 * stops the process (SIGSTOP) until afl-fuzz has written the next input, up
 * to max_iterations inputs (0 counts as 1). Without persistent mode it runs
 * one input. A setup failure (no collector) prints "remcov-afl: ..." and
 * aborts. */
REMCOV_C_API int remcov_afl_loop(unsigned max_iterations);

/* The current input when afl-fuzz passes inputs in shared memory (AFL++'s
 * shared-memory test cases, used whenever afl-fuzz offers them): its bytes
 * and *size, valid until the next __AFL_LOOP. NULL otherwise: read standard
 * input or the `@@` file then. */
REMCOV_C_API const uint8_t* remcov_afl_input(size_t* size);

/* The map the inputs are folded into (AFL++'s, or the private one) and its
 * size in bytes; valid after remcov_afl_init. */
REMCOV_C_API const uint8_t* remcov_afl_map(size_t* size);

/* Inputs whose coverage overflowed the collector so far (folded partially;
 * also reported on stderr when the loop ends). REMCOV_AFL_PC_WORDS sizes the
 * collector. */
REMCOV_C_API uint64_t remcov_afl_overflow_inputs(void);

/* AFL++'s spellings, unless afl-clang-fast (which predefines them) builds the
 * file. The static strings keep the signatures in the binary. */
#ifndef __AFL_LOOP
#define __AFL_LOOP(n)                                      \
  ({                                                       \
    static volatile const char* remcov_afl_persistent_sig_ \
        __attribute__((used)) = REMCOV_AFL_PERSISTENT_SIG; \
    (void)remcov_afl_persistent_sig_;                      \
    remcov_afl_loop(n);                                    \
  })
#endif
#ifndef __AFL_INIT
#define __AFL_INIT()                                                          \
  do {                                                                        \
    static volatile const char* remcov_afl_defer_sig_ __attribute__((used)) = \
        REMCOV_AFL_DEFER_SIG;                                                 \
    (void)remcov_afl_defer_sig_;                                              \
    remcov_afl_init();                                                        \
  } while (0)
#endif

#endif /* REMCOV_AFL_H_ */
