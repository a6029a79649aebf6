// SPDX-License-Identifier: Apache-2.0
// PcSet (remcov/pc_set.h): open addressing with linear probing over a
// power-of-two table kept at most half full; zero, the empty slot's mark, is
// remembered apart.
#include "remcov/pc_set.h"

#include <utility>

namespace remcov {

namespace {
uint64_t Mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  return x;
}
}  // namespace

bool PcSet::Insert(uint64_t pc) {
  if (pc == 0) {
    if (has_zero_) return false;
    has_zero_ = true;
    order_.push_back(0);
    size_++;
    return true;
  }
  if ((size_ + 1) * 2 > slots_.size()) Grow();
  size_t mask = slots_.size() - 1;
  for (size_t i = Mix(pc) & mask;; i = (i + 1) & mask) {
    if (slots_[i] == pc) return false;
    if (slots_[i] == 0) {
      slots_[i] = pc;
      order_.push_back(pc);
      size_++;
      return true;
    }
  }
}

void PcSet::Grow() {
  std::vector<uint64_t> old = std::move(slots_);
  slots_.assign(old.empty() ? 1024 : old.size() * 2, 0);
  size_t mask = slots_.size() - 1;
  for (uint64_t pc : old) {
    if (pc == 0) continue;
    size_t i = Mix(pc) & mask;
    while (slots_[i] != 0) i = (i + 1) & mask;
    slots_[i] = pc;
  }
}

}  // namespace remcov
