// SPDX-License-Identifier: Apache-2.0
// What a KCOV trace holds, in the kernel's ABI (remcov/kcov_abi.h): the trace
// modes and the comparison record. Shared by the client (remcov/collector.h)
// and the coverage file (remcov/coverage_file.h), which needs nothing else of
// the client.
#ifndef REMCOV_TRACE_RECORDS_H_
#define REMCOV_TRACE_RECORDS_H_

#include <stdint.h>

#include "remcov/kcov_abi.h"

namespace remcov {

enum class TraceMode {
  kPc = REMCOV_KCOV_TRACE_PC,
  kCmp = REMCOV_KCOV_TRACE_CMP
};

// One comparison record, the kernel's four 64-bit words.
struct CmpRecord {
  uint64_t type;
  uint64_t arg1;
  uint64_t arg2;
  uint64_t ip;
  bool is_const() const { return type & REMCOV_KCOV_CMP_CONST; }
  // Operand size in bytes: 1, 2, 4 or 8.
  unsigned size() const { return 1u << ((type & REMCOV_KCOV_CMP_MASK) >> 1); }
  bool valid() const { return type <= 7; }
  friend bool operator==(const CmpRecord&, const CmpRecord&) = default;
};

}  // namespace remcov

#endif  // REMCOV_TRACE_RECORDS_H_
