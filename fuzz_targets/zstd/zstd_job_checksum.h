/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The checksum hook of the zstd target (zstd_job_hook.h), for the files
 * that call it by name (the hook itself and its test); zstdmt_compress.c
 * reaches it through -DZSTD_XXH64_update instead. Needs zstd's lib/common
 * on the include path, for xxhash.h.
 */
#ifndef REMCOV_FUZZ_TARGETS_ZSTD_ZSTD_JOB_CHECKSUM_H_
#define REMCOV_FUZZ_TARGETS_ZSTD_ZSTD_JOB_CHECKSUM_H_

#include <stddef.h>

#include "xxhash.h"

#ifdef __cplusplus
extern "C" {
#endif

/* XXH64_update's contract (xxhash.h): adds `length` bytes at `input` to
 * `state`. Counts the job and checks it for the planted bug first
 * (zstd_job_hook.h), on whichever thread calls it. */
XXH_errorcode zstd_mt_fuzz_job_checksum(XXH64_state_t* state, const void* input,
                                        size_t length);

#ifdef __cplusplus
}
#endif

#endif /* REMCOV_FUZZ_TARGETS_ZSTD_ZSTD_JOB_CHECKSUM_H_ */
