/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Linux KCOV user ABI (include/uapi/linux/kcov.h, 6.1 and upstream),
 * mirrored under REMCOV_-prefixed names so that code can use it without the
 * kernel's header, and so the in-process runtime and the kernel client share
 * one set of numbers. tests/base/kcov_abi_test.cc pins every value and
 * offset both to literal numbers and to <linux/kcov.h>.
 *
 * Encodings are the asm-generic _IOC ones (x86, arm64, riscv). This header is C
 * and C++.
 */
#ifndef REMCOV_KCOV_ABI_H_
#define REMCOV_KCOV_ABI_H_

#include <stdint.h>

/* _IOC(dir, type, nr, size) as asm-generic/ioctl.h defines it. */
#define REMCOV_IOC_NONE 0u
#define REMCOV_IOC_WRITE 1u
#define REMCOV_IOC_READ 2u
#define REMCOV_IOC(dir, type, nr, size)            \
  ((unsigned long)(((unsigned long)(dir) << 30) |  \
                   ((unsigned long)(size) << 16) | \
                   ((unsigned long)(type) << 8) | (unsigned long)(nr)))

/* The kernel compares cmd with its own KCOV_INIT_TRACE, whose size field is the
 * kernel's word size: a 32-bit program on a 64-bit kernel must send the 64-bit
 * form. */
/* 0x80086301 */
#define REMCOV_KCOV_INIT_TRACE64 REMCOV_IOC(REMCOV_IOC_READ, 'c', 1, 8)
/* 0x80046301 */
#define REMCOV_KCOV_INIT_TRACE32 REMCOV_IOC(REMCOV_IOC_READ, 'c', 1, 4)
#define REMCOV_KCOV_INIT_TRACE \
  REMCOV_IOC(REMCOV_IOC_READ, 'c', 1, sizeof(unsigned long))
/* 0x6364 */
#define REMCOV_KCOV_ENABLE REMCOV_IOC(REMCOV_IOC_NONE, 'c', 100, 0)
/* 0x6365 */
#define REMCOV_KCOV_DISABLE REMCOV_IOC(REMCOV_IOC_NONE, 'c', 101, 0)
/* 0x40186366: sizeof(struct kcov_remote_arg) is 24 */
#define REMCOV_KCOV_REMOTE_ENABLE REMCOV_IOC(REMCOV_IOC_WRITE, 'c', 102, 24)
/* The KCOV_UNIQUE_ENABLE proposal (unmerged; docs/kcov.md, deliberate
 * difference 15): opt-in in the runtime, ENOTTY on released kernels. */
#define REMCOV_KCOV_UNIQUE_ENABLE \
  REMCOV_IOC(REMCOV_IOC_WRITE, 'c', 103, sizeof(unsigned long))
/* 0x6368. The KCOV_RESET_TRACE proposal (unmerged; docs/kcov.md): the kernel
 * client probes for it (HasResetTrace) and treats ENOTTY as "absent". */
#define REMCOV_KCOV_RESET_TRACE REMCOV_IOC(REMCOV_IOC_NONE, 'c', 104, 0)

#define REMCOV_KCOV_TRACE_PC 0u
#define REMCOV_KCOV_TRACE_CMP 1u

#define REMCOV_KCOV_REMOTE_MAX_HANDLES 0x100u

/* remcov's counters mode (docs/kcov.md, "Counters mode"; no kernel has it):
 * an extension value for KCOV_ENABLE's argument and for
 * kcov_remote_arg.trace_mode, which the kernel answers with EINVAL. The area
 * then starts with a map of 2^bits one-byte counters, one per coverage slot
 * (a trace-pc-guard site, or a hash of a trace-pc return address), each
 * saturating at 255; with REMCOV_KCOV_TRACE_CMP or-ed in, the words after the
 * map are a comparison trace (word 0 = count, then records, as in CMP mode).
 * Remote sections count into a private map that is added into the
 * collector's at the section's end. bits: REMCOV_KCOV_COUNTERS_MIN_BITS to
 * REMCOV_KCOV_COUNTERS_MAX_BITS. */
#define REMCOV_KCOV_TRACE_COUNTERS_TAG 0x52430000u
#define REMCOV_KCOV_TRACE_COUNTERS(bits) \
  (REMCOV_KCOV_TRACE_COUNTERS_TAG | ((unsigned)(bits) << 8))
#define REMCOV_KCOV_COUNTERS_MIN_BITS 6u
#define REMCOV_KCOV_COUNTERS_MAX_BITS 24u

/* Decodes a counters-mode value: 1 with *bits and *cmp set, else 0. */
static inline int remcov_kcov_counters_mode(uint64_t mode, unsigned* bits,
                                            int* cmp) {
  unsigned b = (unsigned)(mode >> 8) & 0xffu;
  if ((mode & ~0xff01ull) != REMCOV_KCOV_TRACE_COUNTERS_TAG ||
      b < REMCOV_KCOV_COUNTERS_MIN_BITS || b > REMCOV_KCOV_COUNTERS_MAX_BITS)
    return 0;
  *bits = b;
  *cmp = (int)(mode & REMCOV_KCOV_TRACE_CMP);
  return 1;
}

/* The words a map of 2^bits counters takes at the start of the area. */
static inline uint64_t remcov_kcov_counters_map_words(unsigned bits) {
  return (1ull << bits) / 8;
}

#define REMCOV_KCOV_CMP_CONST (1u << 0)
#define REMCOV_KCOV_CMP_SIZE(n) ((unsigned)(n) << 1)
#define REMCOV_KCOV_CMP_MASK REMCOV_KCOV_CMP_SIZE(3)

#define REMCOV_KCOV_SUBSYSTEM_COMMON (0x00ull << 56)
#define REMCOV_KCOV_SUBSYSTEM_USB (0x01ull << 56)
#define REMCOV_KCOV_SUBSYSTEM_MASK (0xffull << 56)
#define REMCOV_KCOV_INSTANCE_MASK (0xffffffffull)

/* The kernel's errno for "comparisons compiled out"; not in libc's tables. */
#define REMCOV_ENOTSUPP 524

/* struct kcov_remote_arg: 24 bytes, the same on 32- and 64-bit user space
 * because the u64 fields are 8-byte aligned (the kernel's __aligned_u64). */
struct remcov_kcov_remote_arg {
  uint32_t trace_mode;  /* REMCOV_KCOV_TRACE_PC or REMCOV_KCOV_TRACE_CMP */
  uint32_t area_size;   /* private per-section area, in words */
  uint32_t num_handles; /* entries in handles[] */
  uint32_t pad;         /* implicit in the kernel's header */
  uint64_t common_handle __attribute__((aligned(8)));
  uint64_t handles[] __attribute__((aligned(8)));
};

/* kcov_remote_handle(): 0 when subsys or inst has bits outside its mask. */
static inline uint64_t remcov_kcov_remote_handle(uint64_t subsys,
                                                 uint64_t inst) {
  if ((subsys & ~REMCOV_KCOV_SUBSYSTEM_MASK) ||
      (inst & ~REMCOV_KCOV_INSTANCE_MASK))
    return 0;
  return subsys | inst;
}

#endif /* REMCOV_KCOV_ABI_H_ */
