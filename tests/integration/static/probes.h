/* SPDX-License-Identifier: Apache-2.0 */
/* The static program's instrumented functions (probes.c) and its std::thread
 * helper (std_thread.cc). */
#ifndef REMCOV_TESTS_INTEGRATION_STATIC_PROBES_H_
#define REMCOV_TESTS_INTEGRATION_STATIC_PROBES_H_

#ifdef __cplusplus
extern "C" {
#endif

/* Each runs a few instrumented branches in its own section. */
int probe_pthread(int n);
int probe_std_thread(int n);
int probe_signal(int n);
int probe_sigaction(int n);
int probe_main(int n);

/* Runs fn(arg) on a std::thread (which calls pthread_create from libstdc++.a)
 * and joins it. Returns 0, or -1 when the thread could not be created. */
int run_on_std_thread(void (*fn)(void*), void* arg);

#ifdef __cplusplus
}
#endif

#endif /* REMCOV_TESTS_INTEGRATION_STATIC_PROBES_H_ */
