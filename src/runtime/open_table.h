// SPDX-License-Identifier: Apache-2.0
// What the runtime's two open-addressing handle tables share: the handle map
// of a process (remote.cc) and a domain's table (domain.cc). Keys 0 (empty)
// and kTableTomb (removed) are invalid handles; lookups probe linearly from a
// handle's home slot and stop at the first empty slot.
#ifndef REMCOV_RUNTIME_OPEN_TABLE_H_
#define REMCOV_RUNTIME_OPEN_TABLE_H_

#include <stdint.h>

namespace remcov::internal {

inline constexpr uint64_t kTableTomb = ~0ull;

// A handle's home slot in a table of `mask + 1` slots (a power of two).
inline uint32_t TableHome(uint64_t h, uint32_t mask) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return static_cast<uint32_t>(h) & mask;
}

// Called by a table's writer for the tombstone it just wrote at `i`: if the
// run of tombstones through `i` ends at an empty slot, the whole run becomes
// empty, so lookups cost what they cost in a fresh table with the same live
// keys instead of growing with every handle ever removed. Safe with
// concurrent lock-free lookups: a key at position j was inserted when every
// slot of its probe path (home .. j-1) was non-empty, and slots only become
// empty here, so by induction no live key's path crosses an empty slot; a run
// of tombstones ending at an empty slot therefore lies on no live key's path,
// and a lookup that now stops earlier in it returns the same "absent". (An
// insert reuses the first tombstone or empty slot of its path, so a table
// whose handles are registered and removed all day stays as short as its live
// set.) `load(k)` reads slot k's key, `clear(k)` empties it (release).
template <typename Load, typename Clear>
void ReclaimTombstoneRun(uint32_t i, uint32_t mask, Load load, Clear clear) {
  uint32_t end = i;
  for (uint32_t n = 0; n <= mask && load(end) == kTableTomb; n++)
    end = (end + 1) & mask;
  if (load(end) != 0) return;
  for (uint32_t k = (end + mask) & mask, n = 0;
       n <= mask && load(k) == kTableTomb; k = (k + mask) & mask, n++)
    clear(k);
}

}  // namespace remcov::internal

#endif  // REMCOV_RUNTIME_OPEN_TABLE_H_
