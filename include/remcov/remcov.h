/* SPDX-License-Identifier: Apache-2.0 */
/*
 * remcov's C API: the in-process KCOV runtime.
 *
 * A program built with -fsanitize-coverage=trace-pc,trace-cmp and linked with
 * remcov's runtime gets exactly what Linux KCOV gives a kernel task, through
 * the same ABI: code written against /sys/kernel/debug/kcov ports by replacing
 * open, ioctl, mmap and close with remcov_open, remcov_ioctl, remcov_mmap and
 * remcov_close. The numbers come from remcov/kcov_abi.h (or <linux/kcov.h>).
 *
 * The four calls that mirror system calls behave like them: -1 (MAP_FAILED for
 * remcov_mmap) with errno set; the errno values and check order are the
 * kernel's (docs/kcov.md lists every row and every deliberate difference).
 * Other functions return 0 or a negative REMCOV_E_* code.
 *
 * Thread safety: every function may be called from any thread. The remote
 * section calls (remcov_remote_start/stop, remcov_common_handle) are also
 * async-signal-safe; the device calls are not (they take a mutex).
 */
#ifndef REMCOV_REMCOV_H_
#define REMCOV_REMCOV_H_

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "remcov/export.h"
#include "remcov/kcov_abi.h"

REMCOV_EXTERN_C_BEGIN

/* Opens a new device (a memfd). Returns the descriptor, or -1 with errno. */
REMCOV_C_API int remcov_open(void);

/* KCOV_INIT_TRACE, KCOV_ENABLE, KCOV_DISABLE, KCOV_REMOTE_ENABLE with the
 * kernel's semantics; pointer arguments are passed as unsigned long, as the
 * kernel receives them. Unknown commands: ENOTTY. The descriptor is checked
 * first, as the kernel's VFS does: a descriptor that is not a device goes to
 * ioctl(2), so a closed one gives EBADF and another file its own answer (e.g.
 * ENOTTY for /dev/null) whatever the command and argument. */
REMCOV_C_API int remcov_ioctl(int fd, unsigned long cmd, unsigned long arg);

/* Maps the device's area: word 0 is the count, then the entries. Who may reset
 * the count is the kernel's rule: a local trace (KCOV_ENABLE) only by its own
 * thread, or while it is disabled (the thread stores the count without an
 * atomic read-modify-write, so a reset from elsewhere is undone by its next
 * append); a remote trace from any one thread, with a compare-and-swap
 * (Collector::DrainPcs does both right: remcov/collector.h).
 * Validates as the kernel does: EINVAL before
 * INIT_TRACE, for len != size * sizeof(unsigned long), or off != 0. A
 * descriptor that is not a device, and MAP_ANONYMOUS, go to mmap(2) (EBADF for
 * a closed descriptor, that file's own answer for another). */
REMCOV_C_API void* remcov_mmap(void* addr, size_t len, int prot, int flags,
                               int fd, off_t off);

/* Closes the descriptor and drops its reference to the device. Collection by a
 * thread that enabled it goes on until that thread disables or exits, as in the
 * kernel. A plain close(2) leaks the device until the process exits. */
REMCOV_C_API int remcov_close(int fd);

/* Makes an open file (typically a memfd inherited from another process) a new
 * device, in the state remcov_open leaves one in; returns fd itself. Its first
 * size * sizeof(long) bytes become the shared area at KCOV_INIT_TRACE (the file
 * is grown if shorter, never shrunk), so another process that maps the same
 * file reads the coverage live. `remcov trace --in-process` uses it. EINVAL if
 * fd is not a regular file, EBADF if it is not open. */
REMCOV_C_API int remcov_rt_adopt_area(int fd);

/* Remote sections (KCOV Remote): coverage of the code between start and stop
 * goes to the device that registered `handle`, attributed to its collector.
 * Invalid handles are counted and ignored; unregistered ones cost a lookup.
 * Async-signal-safe: a section may start in a signal handler (the softirq
 * analogue), which interrupts and later restores the thread's own state. */
REMCOV_C_API void remcov_remote_start(uint64_t handle);
REMCOV_C_API void remcov_remote_stop(void);
/* The calling thread's common handle (inherited at thread creation), 0 in a
 * signal handler and in threads without one. */
REMCOV_C_API uint64_t remcov_common_handle(void);

/* Domains: remote handles reachable from processes that did not fork from the
 * collector (a server's workers, a separate client). A domain is a file; a
 * process joins it with remcov_domain_join(path), with a descriptor of it
 * (remcov_domain_join_fd: descriptor passing), or by starting with the
 * environment variable REMCOV_DOMAIN set to its path (joined before main; a
 * failure is reported on stderr). A new file is made with mode 0600: who may
 * open it read-write may join. Registrations (KCOV_REMOTE_ENABLE) of every
 * member are published there: a handle is unique in the domain (EEXIST), and
 * a member's remote sections with a handle another member registered land in
 * that member's device. One domain per process, kept across fork and (through
 * the environment) exec. Returns REMCOV_OK; REMCOV_E_BUSY (errno EBUSY) when
 * another domain is joined; REMCOV_E_INVALID with errno set when the file
 * cannot be opened (EACCES, ENOENT, ...) or is not a domain (EINVAL).
 * docs/design.md, "Domains", describes the protocol and its trust model. */
#define REMCOV_DOMAIN_ENV "REMCOV_DOMAIN"
REMCOV_C_API int remcov_domain_join(const char* path);
REMCOV_C_API int remcov_domain_join_fd(int fd);

/* Counters mode (kcov_abi.h, REMCOV_KCOV_TRACE_COUNTERS): the slot of a map
 * of 2^bits counters that a trace_pc call returning to `pc` counts in, and the
 * slot of a trace-pc-guard site given its guard's address. The same in every
 * process of one program (offsets from the main program's load bias). For
 * tools that map slots back to code. bits: 6 to 24, else 0 is returned. */
REMCOV_C_API uint64_t remcov_counter_slot(uint64_t pc, unsigned bits);
REMCOV_C_API uint64_t remcov_counter_guard_slot(const uint32_t* guard,
                                                unsigned bits);

/* Per-device counters: nothing recorded is lost silently. The fields, and
 * what each counts, are listed in remcov/stats.inc. */
typedef struct remcov_device_stats_t {
#define REMCOV_DEVICE_STAT(name, what) uint64_t name;
#include "remcov/stats.inc"
#undef REMCOV_DEVICE_STAT
} remcov_device_stats_t;

/* Process-wide counters of the remote machinery (remcov/stats.inc). */
typedef struct remcov_runtime_stats_t {
#define REMCOV_RUNTIME_STAT(name, what) uint64_t name;
#include "remcov/stats.inc"
#undef REMCOV_RUNTIME_STAT
} remcov_runtime_stats_t;

/* Error codes of the non-syscall functions (values are stable). */
#define REMCOV_OK 0
#define REMCOV_E_INVALID (-1)  /* bad argument */
#define REMCOV_E_NOTFOUND (-2) /* not a remcov device */
#define REMCOV_E_BUSY (-3)     /* too late to change (e.g. pool allocated) */
#define REMCOV_E_NOMEM (-4)

/* Fills *out for the device behind fd. REQUIRES: out != NULL. */
REMCOV_C_API int remcov_device_stats(int fd, remcov_device_stats_t* out);
/* Fills *out. REQUIRES: out != NULL. */
REMCOV_C_API int remcov_runtime_stats(remcov_runtime_stats_t* out);

/* Sizes the preallocated pool of signal-handler section areas (the kernel's
 * softirq pool: `areas` areas of `words` words each). Effective only before the
 * first KCOV_REMOTE_ENABLE allocates the pool; REMCOV_E_BUSY afterwards. The
 * environment variables REMCOV_IRQ_POOL_AREAS and REMCOV_IRQ_AREA_WORDS set the
 * same values. Defaults: 4 areas of 0x10000 words. */
REMCOV_C_API int remcov_config_irq_pool(uint32_t areas, uint32_t words);

/* Allocates now what the process's first KCOV_REMOTE_ENABLE would: the pool
 * above (touched, so that no handler faults it in). For fork servers: called
 * before the first fork, the children inherit the pool instead of each
 * allocating it in its first REMOTE_ENABLE (about 1.4 ms per child with the
 * defaults; bench/fork_server_cost). REMCOV_OK (also when the pool exists),
 * or REMCOV_E_NOMEM. */
REMCOV_C_API int remcov_prepare_remote(void);

/* A static string describing a REMCOV_E_* code. */
REMCOV_C_API const char* remcov_strerror(int code);

REMCOV_EXTERN_C_END

#endif /* REMCOV_REMCOV_H_ */
