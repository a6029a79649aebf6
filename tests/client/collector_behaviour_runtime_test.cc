// SPDX-License-Identifier: Apache-2.0
// The shared Collector behaviour suite over the in-process runtime.
#include "collector_behaviour.h"

namespace remcov::testing {
namespace {

struct RuntimeEnv {
  Backend& backend() { return RuntimeBackend(); }
};

using Envs = ::testing::Types<RuntimeEnv>;
INSTANTIATE_TYPED_TEST_SUITE_P(Runtime, CollectorBehaviourTest, Envs);

}  // namespace
}  // namespace remcov::testing
