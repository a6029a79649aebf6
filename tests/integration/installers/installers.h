/* SPDX-License-Identifier: Apache-2.0 */
/* glibc's handler installers as C code calls them in each feature-macro
 * mode: the same call in the source reaches a different libc entry point
 * (signal() is __sysv_signal without _DEFAULT_SOURCE, e.g. under -std=c11 or
 * _POSIX_C_SOURCE). Each installers_*.c file is compiled in its mode and
 * exposes the calls as plain functions for signal_installers_test.cc. */
#ifndef REMCOV_TESTS_INSTALLERS_H_
#define REMCOV_TESTS_INSTALLERS_H_

#ifdef __cplusplus
extern "C" {
#endif

typedef void (*installers_handler_t)(int);

/* -std=c11, no feature macro: signal() (glibc: __sysv_signal). */
installers_handler_t installers_c11_signal(int sig, installers_handler_t h);
/* -std=c11 -D_POSIX_C_SOURCE=200809L: signal() (glibc: __sysv_signal) and
 * sigaction() with sa_flags 0 (returns the old handler, SIG_ERR on error). */
installers_handler_t installers_posix_signal(int sig, installers_handler_t h);
installers_handler_t installers_posix_sigaction(int sig,
                                                installers_handler_t h);
/* -std=c11 -D_XOPEN_SOURCE=600: bsd_signal, sigset, siginterrupt. */
installers_handler_t installers_xopen_bsd_signal(int sig,
                                                 installers_handler_t h);
installers_handler_t installers_xopen_sigset(int sig, installers_handler_t h);
int installers_xopen_siginterrupt(int sig, int interrupt);
/* -std=gnu11 (_DEFAULT_SOURCE): signal() (glibc: __bsd_signal), ssignal;
 * with _GNU_SOURCE: sysv_signal, __sysv_signal. */
installers_handler_t installers_default_signal(int sig, installers_handler_t h);
installers_handler_t installers_default_ssignal(int sig,
                                                installers_handler_t h);
installers_handler_t installers_gnu_sysv_signal(int sig,
                                                installers_handler_t h);
installers_handler_t installers_gnu___sysv_signal(int sig,
                                                  installers_handler_t h);

/* SIG_HOLD, for callers compiled in a mode without it. */
installers_handler_t installers_sig_hold(void);

#ifdef __cplusplus
}
#endif

#endif /* REMCOV_TESTS_INSTALLERS_H_ */
