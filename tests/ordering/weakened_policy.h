// SPDX-License-Identifier: Apache-2.0
// Deliberately weakened publication policies (mutation tests) for the
// shared-area protocol in src/area/shared_area.h.
//
// Weakened<Base, M> derives from a complete policy (StdPublishPolicy for the
// ThreadSanitizer and stress harnesses, the Relacy policy for the model
// checker) and overrides only the memory orders / switches that mutation M
// removes; everything else, including the access functions, is the base's.
// Each harness must FAIL on every mutation it claims to detect: a check that
// could never fail proves nothing (docs/memory-ordering.md has the table).
//
// The orders are spelled std::memory_order::x (scoped enumerators) rather
// than std::memory_order_x because Relacy #defines the latter as macros.
#ifndef REMCOV_TESTS_ORDERING_WEAKENED_POLICY_H_
#define REMCOV_TESTS_ORDERING_WEAKENED_POLICY_H_

#include <atomic>

namespace remcov::ordering {

enum class Mutation {
  kNone,
  // Move's publish CAS loses its release half (acq_rel -> acquire) and
  // AppendOne's publish store becomes relaxed: the seed patch's missing
  // smp_wmb().
  kWriterReleaseRemoved,
  // Every reader-side load of the count loses acquire: the initial load and
  // the reset CAS's failure order become relaxed, the reset CAS's success
  // order loses its acquire half (acq_rel -> release). The kcov.rst user read.
  kReaderAcquireRemoved,
  kBothRemoved,
  // The reader's reset CAS is fully relaxed (success and failure orders).
  kRelaxedReset,
  // The mover's loads of the count (initial load and CAS-failure reload) are
  // relaxed: the mover may overwrite slots the drainer is still reading.
  kRelaxedMoveLoad,
  // The drainer resets with a plain (release) store instead of a CAS: the
  // kernel's reset, which loses entries a concurrent move publishes.
  kPlainStoreReset,
  // Move publishes with a plain (release) store instead of a CAS, the
  // kernel's non-atomic read-modify-write: a concurrent reset is lost and
  // consumed entries come back.
  kPlainStorePublish,
};

inline constexpr const char* MutationName(Mutation m) {
  switch (m) {
    case Mutation::kNone:
      return "none";
    case Mutation::kWriterReleaseRemoved:
      return "writer_release_removed";
    case Mutation::kReaderAcquireRemoved:
      return "reader_acquire_removed";
    case Mutation::kBothRemoved:
      return "both_removed";
    case Mutation::kRelaxedReset:
      return "relaxed_reset";
    case Mutation::kRelaxedMoveLoad:
      return "relaxed_move_load";
    case Mutation::kPlainStoreReset:
      return "plain_store_reset";
    case Mutation::kPlainStorePublish:
      return "plain_store_publish";
  }
  return "?";
}

template <class Base, Mutation M>
struct Weakened : Base {
 private:
  static constexpr bool kNoWriterRelease =
      M == Mutation::kWriterReleaseRemoved || M == Mutation::kBothRemoved;
  static constexpr bool kNoReaderAcquire =
      M == Mutation::kReaderAcquireRemoved || M == Mutation::kBothRemoved;

 public:
  static constexpr std::memory_order kAppendPublish =
      kNoWriterRelease ? std::memory_order::relaxed : Base::kAppendPublish;
  static constexpr std::memory_order kMoveLoad =
      M == Mutation::kRelaxedMoveLoad ? std::memory_order::relaxed
                                      : Base::kMoveLoad;
  static constexpr std::memory_order kMoveRetryLoad =
      M == Mutation::kRelaxedMoveLoad ? std::memory_order::relaxed
                                      : Base::kMoveRetryLoad;
  // A plain store may not carry acquire (acq_rel is invalid for a store).
  static constexpr std::memory_order kMovePublish =
      kNoWriterRelease                    ? std::memory_order::acquire
      : M == Mutation::kPlainStorePublish ? std::memory_order::release
                                          : Base::kMovePublish;
  static constexpr bool kMoveUsesCas =
      M == Mutation::kPlainStorePublish ? false : Base::kMoveUsesCas;
  static constexpr std::memory_order kReaderLoad =
      kNoReaderAcquire ? std::memory_order::relaxed : Base::kReaderLoad;
  static constexpr std::memory_order kReaderReset =
      kNoReaderAcquire                  ? std::memory_order::release
      : M == Mutation::kRelaxedReset    ? std::memory_order::relaxed
      : M == Mutation::kPlainStoreReset ? std::memory_order::release
                                        : Base::kReaderReset;
  static constexpr std::memory_order kReaderResetFail =
      kNoReaderAcquire || M == Mutation::kRelaxedReset
          ? std::memory_order::relaxed
          : Base::kReaderResetFail;
  static constexpr bool kReaderUsesCas =
      M == Mutation::kPlainStoreReset ? false : Base::kReaderUsesCas;
};

}  // namespace remcov::ordering

#endif  // REMCOV_TESTS_ORDERING_WEAKENED_POLICY_H_
