// SPDX-License-Identifier: Apache-2.0
// The AFL++ adaptor without afl-fuzz: the loop on the example service (its
// housekeeping thread runs all along, and none of its coverage may reach the
// map). The loop runs once per process, so each loop scenario runs in a
// child process (a death test in the "threadsafe" style, which re-executes
// this binary). The protocol words and the map: afl_protocol_test.cc.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "remcov/afl.h"
#include "remcov/collector.h"
#include "remcov/remcov.h"

#include "afl/afl_map.h"
#include "afl/afl_protocol.h"
#include "fuzz_common/pc_key.h"
#include "server.h"
#include "service_api.h"

namespace remcov::afl {
namespace {

// --- the loop, in a child process -----------------------------------------

// The expected map for `request`: its PCs, collected by a collector of the
// test's own (then disabled), folded the same way.
// counters: each PC counts in its counters-mode slot (remcov_counter_slot)
// instead, saturating, which is what counters mode must give.
std::vector<uint8_t> ReferenceMap(remcov_service::Server& server,
                                  const std::string& request,
                                  std::string* error, bool counters = false) {
  std::vector<uint8_t> map(kMapSize, 0);
  auto c = Collector::Open(RuntimeBackend(), size_t{1} << 18);
  if (!c.ok()) {
    *error = c.status().ToString();
    return map;
  }
  RemoteOptions ro;
  ro.common_handle =
      remcov_kcov_remote_handle(REMCOV_KCOV_SUBSYSTEM_COMMON, 0x7e570001u);
  Status s = c->EnableRemote(ro);
  if (s.ok()) s = c->Reset();
  if (!s.ok()) {
    *error = s.ToString();
    return map;
  }
  (void)server.Handle(request);
  if (counters) {
    for (uint64_t pc : c->Pcs()) {
      uint8_t& n = map[remcov_counter_slot(pc, kMapBits)];
      if (n != 255) n++;
    }
  } else {
    FoldPcs(c->Pcs(), map.data());
  }
  s = c->Disable();
  if (!s.ok()) *error = s.ToString();
  return map;
}

// Runs one input through the adaptor's loop while the housekeeping thread
// completes two rounds; returns "" or what went wrong.
std::string LoopScenario(bool counters = false) {
  unsetenv(kShmEnvVar);
  if (counters) setenv("REMCOV_AFL_COUNTERS", "1", 1);
  // Before any collector: the server's threads must have no common handle.
  remcov_service::Server server(*svc_trace_api(), 2);
  const std::string request = "POST /sum 1,2,3";
  std::string error;
  const std::vector<uint8_t> expected =
      ReferenceMap(server, request, &error, counters);
  if (!error.empty()) return "reference: " + error;
  if (remcov_afl_init() != 0) return "remcov_afl_init claims AFL++'s map";
  if (remcov_afl_loop(3) != 1) return "the loop did not start";
  const uint64_t t0 = server.ticks();
  if (server.Handle(request) != 200) return "the request failed";
  server.WaitTicks(t0 + 2);  // housekeeping ran during the input
  // Not persistent (no fork server): one pass, then done.
  if (remcov_afl_loop(3) != 0) return "a second pass without afl-fuzz";
  if (remcov_afl_loop(3) != 0) return "the loop restarted";
  size_t size = 0;
  const uint8_t* map = remcov_afl_map(&size);
  if (size != kMapSize) return "map size " + std::to_string(size);
  size_t nonzero = 0, differ = 0;
  for (size_t i = 0; i < size; i++) {
    nonzero += map[i] != 0;
    differ += map[i] != expected[i];
  }
  if (nonzero == 0) return "the map is empty";
  if (differ != 0)
    return std::to_string(differ) + " of " + std::to_string(nonzero) +
           " slots differ from the input's own coverage";
  if (remcov_afl_overflow_inputs() != 0) return "an overflow was counted";
  fprintf(stderr, "slots=%zu\n", nonzero);
  return "";
}

// A collector too small for the input: counted, reported, folded partially.
std::string OverflowScenario() {
  unsetenv(kShmEnvVar);
  setenv("REMCOV_AFL_PC_WORDS", "512", 1);
  remcov_service::Server server(*svc_trace_api(), 2);
  std::string request = "POST /sum 1";
  for (int i = 0; i < 400; i++) request += ",1";
  if (remcov_afl_loop(1) != 1) return "the loop did not start";
  (void)server.Handle(request);
  if (remcov_afl_loop(1) != 0) return "a second pass";
  if (remcov_afl_overflow_inputs() != 1) return "the overflow was not counted";
  size_t size = 0;
  const uint8_t* map = remcov_afl_map(&size);
  size_t nonzero = 0;
  for (size_t i = 0; i < size; i++) nonzero += map[i] != 0;
  if (nonzero == 0) return "nothing was folded";
  return "";
}

[[noreturn]] void Finish(const std::string& error) {
  if (error.empty()) {
    fprintf(stderr, "scenario passed\n");
    fflush(stderr);
    _exit(0);
  }
  fprintf(stderr, "scenario failed: %s\n", error.c_str());
  fflush(stderr);
  _exit(1);
}

class AflLoopTest : public ::testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

TEST_F(AflLoopTest, MapHoldsExactlyTheInputsCoverage) {
  EXPECT_EXIT(Finish(LoopScenario()), ::testing::ExitedWithCode(0),
              "scenario passed");
}

// REMCOV_AFL_COUNTERS=1: the same input's counters, slot for slot, from one
// counters-mode map (the service's trace_pc calls reach the counting entry).
TEST_F(AflLoopTest, CountersModeMapHoldsExactlyTheInputsCounts) {
  EXPECT_EXIT(Finish(LoopScenario(/*counters=*/true)),
              ::testing::ExitedWithCode(0), "scenario passed");
}

TEST_F(AflLoopTest, BadCountersFlagIsAClearError) {
  EXPECT_DEATH(
      {
        setenv("REMCOV_AFL_COUNTERS", "yes", 1);
        (void)remcov_afl_loop(1);
      },
      "remcov-afl: REMCOV_AFL_COUNTERS=yes is not 0 or 1");
}

TEST_F(AflLoopTest, OverflowIsCountedAndReported) {
  EXPECT_EXIT(Finish(OverflowScenario()), ::testing::ExitedWithCode(0),
              "1 of 1 inputs overflowed the collector.*\n.*scenario passed");
}

TEST_F(AflLoopTest, BadCollectorSizeIsAClearError) {
  EXPECT_DEATH(
      {
        setenv("REMCOV_AFL_PC_WORDS", "lots", 1);
        (void)remcov_afl_loop(1);
      },
      "remcov-afl: REMCOV_AFL_PC_WORDS=lots is not a number of words");
}

}  // namespace
}  // namespace remcov::afl
