// SPDX-License-Identifier: Apache-2.0
// ThreadSanitizer harness for the production shared-area protocol.
//
// Built once per compiler (g++ and clang++) and per mutation with
// -fsanitize=thread; tests/ordering/run_tsan.cmake runs it and checks the
// report. With REMCOV_ORDERING_MUTATION unset (0) the policy is the
// production StdPublishPolicy itself, not a copy; otherwise it is
// Weakened<StdPublishPolicy, M> (weakened_policy.h), which must be reported
// as a data race. The two modes:
//   move   : a mover thread calls Move repeatedly (batches of 1..4 entries
//            carrying sequence ids) while a reader thread calls Drain
//            (move_drain_harness.h); every published id must be consumed
//            exactly once.
//   append : the owning thread calls AppendOne for ids 1..N while a reader
//            loads the count (the policy's reader order) and reads the new
//            entries, checking each holds its id.
// The count word is published with release stores and read with acquire
// loads; there are no standalone fences (TSan does not model them).
// Exit status: 0 when the checker found nothing (TSan exits 66 on a report),
// 1 when the checker found lost, duplicated or stale entries, 2 on usage.
#include <stddef.h>
#include <stdint.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <type_traits>
#include <vector>

#include "area/shared_area.h"
#include "move_drain_harness.h"
#include "weakened_policy.h"

#ifndef REMCOV_ORDERING_MUTATION
#define REMCOV_ORDERING_MUTATION 0
#endif

namespace remcov::ordering {
namespace {

using internal::SharedArea;
using internal::StdPublishPolicy;

constexpr Mutation kMutation = static_cast<Mutation>(REMCOV_ORDERING_MUTATION);
using Policy =
    std::conditional_t<kMutation == Mutation::kNone, StdPublishPolicy,
                       Weakened<StdPublishPolicy, kMutation>>;
using Area = SharedArea<Policy>;

// A small area so that slots are reused (reset, then overwritten) thousands of
// times per run: the races the mutations introduce are on reused slots.
constexpr uint64_t kMoveCapacity = 16;

int RunMove(uint64_t moves) {
  const MoveDrainStats s = RunMoveDrain<Policy>(moves, kMoveCapacity);
  std::printf(
      "mode=move mutation=%s published=%llu lost=%llu duplicated=%llu "
      "unpublished_seen=%llu bad=%llu\n",
      MutationName(kMutation), static_cast<unsigned long long>(s.published),
      static_cast<unsigned long long>(s.lost),
      static_cast<unsigned long long>(s.duplicated),
      static_cast<unsigned long long>(s.unpublished),
      static_cast<unsigned long long>(s.bad));
  return s.anomalies() == 0 ? 0 : 1;
}

int RunAppend(uint64_t n) {
  std::vector<uint64_t> area(1 + n, 0);
  uint64_t stale = 0;
  std::thread writer([&] {
    for (uint64_t id = 1; id <= n; id++) {
      const uint64_t entry[1] = {id};
      Area::AppendOne(area[0], area.data(), n, entry, 1);
    }
  });
  std::thread reader([&] {
    uint64_t seen = 0;
    while (seen < n) {
      const uint64_t end = Policy::Load(area[0], Policy::kReaderLoad);
      for (uint64_t i = seen; i < end; i++)
        if (area[1 + i] != i + 1) stale++;
      seen = end;
    }
  });
  writer.join();
  reader.join();
  std::printf("mode=append mutation=%s entries=%llu stale=%llu\n",
              MutationName(kMutation), static_cast<unsigned long long>(n),
              static_cast<unsigned long long>(stale));
  return stale == 0 ? 0 : 1;
}

}  // namespace
}  // namespace remcov::ordering

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s move|append ITERATIONS\n", argv[0]);
    return 2;
  }
  const uint64_t iterations = std::strtoull(argv[2], nullptr, 10);
  if (std::strcmp(argv[1], "move") == 0)
    return remcov::ordering::RunMove(iterations);
  if (std::strcmp(argv[1], "append") == 0)
    return remcov::ordering::RunAppend(iterations);
  std::fprintf(stderr, "%s: unknown mode '%s'\n", argv[0], argv[1]);
  return 2;
}
