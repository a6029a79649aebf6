// SPDX-License-Identifier: Apache-2.0
// The shared Collector behaviour suite over KernelBackend + FakeSys.
#include "remcov/kcov.h"

#include "collector_behaviour.h"
#include "fake_sys.h"

namespace remcov::testing {
namespace {

struct FakeKernelEnv {
  FakeSys sys;
  KernelBackend kernel{sys};
  Backend& backend() { return kernel; }
};

using Envs = ::testing::Types<FakeKernelEnv>;
INSTANTIATE_TYPED_TEST_SUITE_P(FakeKernel, CollectorBehaviourTest, Envs);

}  // namespace
}  // namespace remcov::testing
