/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The interface between a whole-workload driver (sqlite_driver.c,
 * brotli_driver.c: compiled with the variant's instrumentation, like the
 * third-party library they drive) and harness.c (never instrumented), which
 * sets coverage collection up the way the variant needs and runs the driver
 * once. See bench/workloads/run.sh.
 */
#ifndef REMCOV_BENCH_WORKLOADS_WORKLOAD_H_
#define REMCOV_BENCH_WORKLOADS_WORKLOAD_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Runs the workload the input describes (text: "SEED SCALE"; empty input:
 * nothing, so that a run on an empty file measures the program's fixed cost).
 * Deterministic: the same input gives the same work and the same *checksum.
 * Returns 0, or nonzero when the driver's own check of its results failed
 * (a broken build). */
int WorkloadRun(const uint8_t* data, size_t size, uint64_t* checksum);

/* Called by the driver between operations (a statement, a block compressed),
 * as a fuzzer or syzkaller resets the coverage buffer between calls: the
 * harness adds the records collected so far to its total and resets the
 * area's count, so a realistic area size suffices. */
void BenchStep(void);

/* FNV-1a over bytes, folded into *h: the drivers' checksum. */
static inline void BenchHash(uint64_t* h, const void* p, size_t n) {
  const unsigned char* b = (const unsigned char*)p;
  for (size_t i = 0; i < n; i++) *h = (*h ^ b[i]) * 0x100000001b3ull;
}

/* xorshift64*: the drivers' fixed-seed generator. */
static inline uint64_t BenchRand(uint64_t* s) {
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return *s * 0x2545f4914f6cdd1dull;
}

#ifdef __cplusplus
}
#endif

#endif /* REMCOV_BENCH_WORKLOADS_WORKLOAD_H_ */
