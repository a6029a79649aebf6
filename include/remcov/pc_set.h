// SPDX-License-Identifier: Apache-2.0
// remcov::PcSet: a set of PCs (any 64-bit keys, zero included) that keeps
// their insertion order, for the distinct PCs of a trace (remcov::client).
//
// Thread safety: none; one PcSet per thread, or guard it.
#ifndef REMCOV_PC_SET_H_
#define REMCOV_PC_SET_H_

#include <stddef.h>
#include <stdint.h>

#include <vector>

#include "remcov/export.h"

namespace remcov {

// Deduplicates PCs (or any 64-bit keys) with an open-addressing table.
class REMCOV_EXPORT PcSet {
 public:
  // Returns true when pc was not in the set.
  bool Insert(uint64_t pc);
  size_t size() const { return size_; }
  // The distinct PCs in insertion order.
  const std::vector<uint64_t>& values() const { return order_; }

 private:
  void Grow();
  std::vector<uint64_t> slots_;
  std::vector<uint64_t> order_;
  size_t size_ = 0;
  bool has_zero_ = false;
};

}  // namespace remcov

#endif  // REMCOV_PC_SET_H_
