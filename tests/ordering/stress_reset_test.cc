// SPDX-License-Identifier: Apache-2.0
// Lost-update stress test of the lossless reset (Move's publish CAS against
// Drain's reset CAS) on the production SharedArea<StdPublishPolicy>.
//
// Unlike the message-passing orders, this bug shows on x86: a reset done with
// a plain store wipes entries that a concurrent Move published between the
// reader's load and its store (lost), and a Move that publishes with a plain
// store undoes a concurrent reset (consumed entries come back). The correct
// protocol must lose and duplicate nothing; the two weakened policies are the
// positive controls that prove this harness can see the bug: each runs rounds
// until the checker reports an anomaly, up to a generous bound of rounds
// (never a time-based assertion).
#include <stdint.h>

#include <cstdio>
#include <vector>

#include <gtest/gtest.h>

#include "area/shared_area.h"
#include "move_drain_harness.h"
#include "weakened_policy.h"

namespace remcov::ordering {
namespace {

using internal::StdPublishPolicy;

constexpr uint64_t kCapacity = 16;
constexpr uint64_t kMovesPerRound = 20000;
constexpr int kCorrectRounds = 10;
constexpr int kMaxControlRounds = 500;

std::string Describe(const MoveDrainStats& s) {
  char buf[256];
  std::snprintf(
      buf, sizeof buf,
      "published=%llu lost=%llu (e.g. id %llu) duplicated=%llu (e.g. id %llu) "
      "unpublished_seen=%llu bad=%llu",
      static_cast<unsigned long long>(s.published),
      static_cast<unsigned long long>(s.lost),
      static_cast<unsigned long long>(s.first_lost),
      static_cast<unsigned long long>(s.duplicated),
      static_cast<unsigned long long>(s.first_duplicated),
      static_cast<unsigned long long>(s.unpublished),
      static_cast<unsigned long long>(s.bad));
  return buf;
}

TEST(ResetStressTest, CheckerNamesLostAndDuplicatedIds) {
  // ids 1..5: 2 lost, 4 consumed twice, 5 consumed but never published.
  std::vector<uint8_t> published = {0, 1, 1, 1, 1, 0};
  std::vector<uint32_t> consumed = {0, 1, 0, 1, 2, 1};
  MoveDrainStats s = Tally(published, consumed, 0);
  EXPECT_EQ(s.published, 4u);
  EXPECT_EQ(s.lost, 1u);
  EXPECT_EQ(s.first_lost, 2u);
  EXPECT_EQ(s.duplicated, 1u);
  EXPECT_EQ(s.first_duplicated, 4u);
  EXPECT_EQ(s.unpublished, 1u);
  EXPECT_EQ(s.anomalies(), 3u);
}

TEST(ResetStressTest, SingleThreadedMovesAndDrainsLoseNothing) {
  MoveDrainStats s = RunMoveDrain<StdPublishPolicy>(kMovesPerRound, kCapacity,
                                                    /*threaded=*/false);
  EXPECT_EQ(s.anomalies(), 0u) << Describe(s);
  EXPECT_EQ(s.published, kMovesPerRound / 4 * 10);  // 1+2+3+4 per 4 moves
}

TEST(ResetStressTest, ConcurrentMoveAndDrainLoseAndDuplicateNothing) {
  for (int round = 0; round < kCorrectRounds; round++) {
    MoveDrainStats s =
        RunMoveDrain<StdPublishPolicy>(kMovesPerRound, kCapacity);
    ASSERT_EQ(s.anomalies(), 0u) << "round " << round << ": " << Describe(s);
    ASSERT_EQ(s.published, kMovesPerRound / 4 * 10);
  }
}

// Runs rounds of P until the checker reports an anomaly; returns the stats of
// that round and the number of rounds it took (0 if never).
template <class P>
int RoundsUntilAnomaly(MoveDrainStats* out) {
  for (int round = 1; round <= kMaxControlRounds; round++) {
    *out = RunMoveDrain<P>(kMovesPerRound, kCapacity);
    if (out->anomalies() > 0) return round;
  }
  return 0;
}

TEST(ResetStressTest, PlainStoreResetLosesEntries) {
  MoveDrainStats s;
  const int rounds = RoundsUntilAnomaly<
      Weakened<StdPublishPolicy, Mutation::kPlainStoreReset>>(&s);
  std::printf(
      "[stress] plain_store_reset: anomaly after %d round(s) of %llu moves: "
      "%s\n",
      rounds, static_cast<unsigned long long>(kMovesPerRound),
      Describe(s).c_str());
  ASSERT_GT(rounds, 0) << "no lost entry in " << kMaxControlRounds << " rounds";
  EXPECT_GT(s.lost, 0u) << Describe(s);
}

TEST(ResetStressTest, PlainStorePublishResurrectsEntries) {
  MoveDrainStats s;
  const int rounds = RoundsUntilAnomaly<
      Weakened<StdPublishPolicy, Mutation::kPlainStorePublish>>(&s);
  std::printf(
      "[stress] plain_store_publish: anomaly after %d round(s) of %llu moves: "
      "%s\n",
      rounds, static_cast<unsigned long long>(kMovesPerRound),
      Describe(s).c_str());
  ASSERT_GT(rounds, 0) << "no duplicated entry in " << kMaxControlRounds
                       << " rounds";
  EXPECT_GT(s.duplicated, 0u) << Describe(s);
}

}  // namespace
}  // namespace remcov::ordering
