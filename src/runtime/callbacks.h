// SPDX-License-Identifier: Apache-2.0
// The prototypes of the SanitizerCoverage callbacks remcov's runtime defines
// (src/runtime/sancov_callbacks.inc is the list), for code that calls them
// directly: the benchmark drivers, and the libFuzzer adaptor, which calls
// libFuzzer's definitions of the same names. The trace-pc-guard callbacks
// (clang, KCOV_UNIQUE_ENABLE) are not in the list: they have no aliases.
#ifndef REMCOV_RUNTIME_CALLBACKS_H_
#define REMCOV_RUNTIME_CALLBACKS_H_

#include <stdint.h>

extern "C" {
#define REMCOV_SANCOV_CALLBACK(name, params) void __sanitizer_cov_##name params;
#include "runtime/sancov_callbacks.inc"
#undef REMCOV_SANCOV_CALLBACK
void __sanitizer_cov_trace_pc_guard_init(uint32_t* start, uint32_t* stop);
void __sanitizer_cov_trace_pc_guard(uint32_t* guard);
}

#endif  // REMCOV_RUNTIME_CALLBACKS_H_
