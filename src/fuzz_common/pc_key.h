// SPDX-License-Identifier: Apache-2.0
// How the fuzzer adaptors turn a recorded PC into a slot of their feedback
// map: the libFuzzer adaptor's extra counters (src/libfuzzer/) and the AFL++
// adaptor's shared map (src/afl/). Header-only and internal (not installed).
//
// A PC is keyed by its module and its offset in it, not by its address: with
// ASLR the addresses change from process to process, and so would the slot
// collisions and the fuzzer's feature numbers, which made libFuzzer runs with
// the same -seed diverge (seed 1 hit its bug at runs 70627, 61062 and 64814 in
// three processes; at 44130 every time with ASLR off; docs/fuzzing.md).
#ifndef REMCOV_FUZZ_COMMON_PC_KEY_H_
#define REMCOV_FUZZ_COMMON_PC_KEY_H_

#include <link.h>
#include <stddef.h>
#include <stdint.h>

#include <algorithm>
#include <vector>

namespace remcov::fuzz {

// One executable segment of a loaded module.
struct Segment {
  uint64_t start, end, base, module;
};

inline int AddSegments(struct dl_phdr_info* info, size_t, void* arg) {
  auto* out = static_cast<std::vector<Segment>*>(arg);
  const uint64_t module = out->empty() ? 0 : out->back().module + 1;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD || (ph.p_flags & PF_X) == 0) continue;
    const uint64_t start = info->dlpi_addr + ph.p_vaddr;
    out->push_back({start, start + ph.p_memsz, info->dlpi_addr, module});
  }
  return 0;
}

// The executable segments of the modules loaded at the first call, sorted by
// address. Call it once before the first input: later calls only read it
// (the AFL++ adaptor's crash handler relies on that).
inline const std::vector<Segment>& Segments() {
  static const std::vector<Segment>* segments = [] {
    auto* v = new std::vector<Segment>();
    dl_iterate_phdr(AddSegments, v);
    std::sort(v->begin(), v->end(), [](const Segment& a, const Segment& b) {
      return a.start < b.start;
    });
    return v;
  }();
  return *segments;
}

// (module number << 48) + offset; the address itself for PCs outside the
// modules known at the first call (code loaded later by dlopen).
inline uint64_t StablePc(uint64_t pc) {
  const std::vector<Segment>& segs = Segments();
  auto it = std::upper_bound(
      segs.begin(), segs.end(), pc,
      [](uint64_t v, const Segment& s) { return v < s.start; });
  if (it == segs.begin()) return pc;
  --it;
  if (pc >= it->end) return pc;
  return (it->module << 48) + (pc - it->base);
}

// Fibonacci hashing of a key to one of 2^bits slots: PCs of one function
// differ in their low bits only, and the multiplication spreads them.
inline size_t FibonacciSlot(uint64_t key, unsigned bits) {
  return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> (64 - bits));
}

}  // namespace remcov::fuzz

#endif  // REMCOV_FUZZ_COMMON_PC_KEY_H_
