// SPDX-License-Identifier: Apache-2.0
// KCOV Remote in the runtime: attribution across a shared worker pool,
// common-handle inheritance through thread creation, sections in signal
// handlers, DISABLE during in-flight sections, and a lossless-move stress test
// with concurrent drains in which every entry carries a unique identity.
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "remcov/collector.h"
#include "remcov/remcov.h"
#include "remcov/thread_pool.h"

#include "fixture.h"
#include "runtime/device.h"
#include "test_util.h"

namespace remcov::testing {
namespace {

uint64_t Usb(uint64_t bus) {
  return remcov_kcov_remote_handle(REMCOV_KCOV_SUBSYSTEM_USB, bus);
}
uint64_t Common(uint64_t id) {
  return remcov_kcov_remote_handle(REMCOV_KCOV_SUBSYSTEM_COMMON, id);
}

remcov_runtime_stats_t RuntimeStats() {
  remcov_runtime_stats_t s{};
  EXPECT_EQ(remcov_runtime_stats(&s), REMCOV_OK);
  return s;
}

TEST(RemoteTest, TwoCollectorsShareAPoolAndGetOnlyTheirOwnWork) {
  remcov::ThreadPool pool(3);  // captures the submitter's common handle
  RawDevice a(1 << 16), b(1 << 16);
  std::atomic<int> ready{0};
  std::atomic<bool> finish{false};
  auto owner = [&](RawDevice& d, uint64_t common, std::function<void()> work) {
    remcov_kcov_remote_arg* ra;
    uint64_t buf[3] = {};
    ra = reinterpret_cast<remcov_kcov_remote_arg*>(buf);
    ra->trace_mode = REMCOV_KCOV_TRACE_PC;
    ra->area_size = 1 << 14;
    ra->common_handle = common;
    ASSERT_EQ(remcov_ioctl(d.fd(), REMCOV_KCOV_REMOTE_ENABLE,
                           reinterpret_cast<unsigned long>(ra)),
              0)
        << strerror(errno);
    ASSERT_EQ(remcov_common_handle(), common);
    std::vector<std::future<void>> done;
    for (int i = 0; i < 50; i++) done.push_back(pool.Submit(work));
    for (auto& f : done) f.wait();
    ready++;
    while (!finish.load()) std::this_thread::yield();
    ASSERT_EQ(remcov_ioctl(d.fd(), REMCOV_KCOV_DISABLE, 0), 0);
  };
  std::thread ta(owner, std::ref(a), Common(0x1001),
                 [] { fixture_digits("12", 2); });
  std::thread tb(owner, std::ref(b), Common(0x1002),
                 [] { fixture_letters("ab", 2); });
  while (ready.load() < 2) std::this_thread::yield();
  finish = true;
  ta.join();
  tb.join();
  EXPECT_EQ(FixtureFunctions(a.Pcs()), std::set<std::string>{"fixture_digits"});
  EXPECT_EQ(FixtureFunctions(b.Pcs()),
            std::set<std::string>{"fixture_letters"});
  EXPECT_EQ(a.Stats().sections_moved, 50u);
  EXPECT_EQ(b.Stats().sections_moved, 50u);
}

TEST(RemoteTest,
     UnregisteredAndInvalidHandlesCollectNothingAndInvalidIsCounted) {
  auto before = RuntimeStats();
  remcov_remote_start(Usb(0xdead));  // valid, not registered
  fixture_parse("1", 1);
  remcov_remote_stop();
  remcov_remote_start(1ull << 40);  // reserved bits: invalid
  remcov_remote_stop();
  auto after = RuntimeStats();
  EXPECT_EQ(after.invalid_handles, before.invalid_handles + 1);
}

TEST(RemoteTest, CommonHandleIsInheritedThroughNestedThreadCreation) {
  RawDevice d(1 << 16);
  ASSERT_EQ(remcov_common_handle(), 0u);
  std::thread owner([&] {
    uint64_t buf[3] = {};
    auto* ra = reinterpret_cast<remcov_kcov_remote_arg*>(buf);
    ra->trace_mode = REMCOV_KCOV_TRACE_PC;
    ra->area_size = 4096;
    ra->common_handle = Common(0x2001);
    ASSERT_EQ(remcov_ioctl(d.fd(), REMCOV_KCOV_REMOTE_ENABLE,
                           reinterpret_cast<unsigned long>(ra)),
              0);
    uint64_t child_h = 0, grandchild_h = 0;
    std::thread child([&] {
      child_h = remcov_common_handle();
      std::thread grandchild([&] {
        grandchild_h = remcov_common_handle();
        remcov_remote_start(remcov_common_handle());
        fixture_magic("KCOV", 4);
        remcov_remote_stop();
      });
      grandchild.join();
    });
    child.join();
    EXPECT_EQ(child_h, Common(0x2001));
    EXPECT_EQ(grandchild_h, Common(0x2001));
    ASSERT_EQ(remcov_ioctl(d.fd(), REMCOV_KCOV_DISABLE, 0), 0);
    // Threads created after DISABLE inherit nothing (kcov_handle cleared).
    std::thread later([&] { EXPECT_EQ(remcov_common_handle(), 0u); });
    later.join();
  });
  owner.join();
  EXPECT_EQ(FixtureFunctions(d.Pcs()), std::set<std::string>{"fixture_magic"});
}

TEST(RemoteTest, TaskSectionsDoNotNestAndAreRefusedInTracingThreads) {
  RawDevice owner_dev(1 << 14), local(1 << 14);
  uint64_t buf[4] = {};
  auto* ra = reinterpret_cast<remcov_kcov_remote_arg*>(buf);
  ra->trace_mode = REMCOV_KCOV_TRACE_PC;
  ra->area_size = 4096;
  ra->num_handles = 1;
  buf[3] = Usb(0x3001);
  std::atomic<bool> registered{false}, done{false};
  std::thread owner([&] {
    ASSERT_EQ(remcov_ioctl(owner_dev.fd(), REMCOV_KCOV_REMOTE_ENABLE,
                           reinterpret_cast<unsigned long>(ra)),
              0);
    // The owner itself cannot run a section: refused and counted (Linux
    // 6.1.192 dereferences NULL in kcov_remote_stop; docs/kcov.md,
    // difference 2).
    auto s0 = RuntimeStats();
    remcov_remote_start(Usb(0x3001));
    remcov_remote_stop();
    EXPECT_EQ(RuntimeStats().refused_sections, s0.refused_sections + 1);
    registered = true;
    while (!done.load()) std::this_thread::yield();
    ASSERT_EQ(remcov_ioctl(owner_dev.fd(), REMCOV_KCOV_DISABLE, 0), 0);
  });
  while (!registered.load()) std::this_thread::yield();
  auto s1 = RuntimeStats();
  remcov_remote_start(Usb(0x3001));
  remcov_remote_start(Usb(0x3001));  // nested: refused
  fixture_digits("1", 1);
  remcov_remote_stop();
  EXPECT_EQ(RuntimeStats().refused_sections, s1.refused_sections + 1);
  ASSERT_EQ(remcov_ioctl(local.fd(), REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC),
            0);
  remcov_remote_start(Usb(0x3001));  // tracing thread: refused
  remcov_remote_stop();
  ASSERT_EQ(remcov_ioctl(local.fd(), REMCOV_KCOV_DISABLE, 0), 0);
  EXPECT_EQ(RuntimeStats().refused_sections, s1.refused_sections + 2);
  done = true;
  owner.join();
  EXPECT_EQ(owner_dev.Stats().sections_moved, 1u);
}

TEST(RemoteTest, DisableDuringInFlightSectionDropsItCounted) {
  RawDevice d(1 << 14);
  uint64_t buf[4] = {};
  auto* ra = reinterpret_cast<remcov_kcov_remote_arg*>(buf);
  ra->trace_mode = REMCOV_KCOV_TRACE_PC;
  ra->area_size = 4096;
  ra->num_handles = 1;
  buf[3] = Usb(0x4001);
  std::atomic<int> phase{0};
  std::thread owner([&] {
    ASSERT_EQ(remcov_ioctl(d.fd(), REMCOV_KCOV_REMOTE_ENABLE,
                           reinterpret_cast<unsigned long>(ra)),
              0);
    phase = 1;
    while (phase.load() != 2) std::this_thread::yield();
    ASSERT_EQ(remcov_ioctl(d.fd(), REMCOV_KCOV_DISABLE, 0), 0);
    // Re-enable: the old section must not land in the new epoch either.
    ASSERT_EQ(remcov_ioctl(d.fd(), REMCOV_KCOV_REMOTE_ENABLE,
                           reinterpret_cast<unsigned long>(ra)),
              0);
    phase = 3;
    while (phase.load() != 4) std::this_thread::yield();
    ASSERT_EQ(remcov_ioctl(d.fd(), REMCOV_KCOV_DISABLE, 0), 0);
  });
  while (phase.load() != 1) std::this_thread::yield();
  auto before = RuntimeStats();
  remcov_remote_start(Usb(0x4001));
  fixture_digits("123", 3);
  phase = 2;
  while (phase.load() != 3) std::this_thread::yield();
  remcov_remote_stop();
  phase = 4;
  owner.join();
  auto after = RuntimeStats();
  EXPECT_EQ(after.sequence_dropped_sections,
            before.sequence_dropped_sections + 1);
  EXPECT_GT(after.sequence_dropped_entries, before.sequence_dropped_entries);
  EXPECT_EQ(d.Count(), 0u);
}

TEST(RemoteTest, ThreadCreationWithoutHandleIsUnchanged) {
  auto before = RuntimeStats();
  std::thread([] { EXPECT_EQ(remcov_common_handle(), 0u); }).join();
  EXPECT_EQ(RuntimeStats().inherited_handles, before.inherited_handles);
}

// ---- signal-handler sections (the softirq analogue) ----
std::atomic<uint64_t> g_irq_handle{0};
std::atomic<uint64_t> g_irq_runs{0};
void SectionHandler(int) {
  EXPECT_EQ(remcov_common_handle(), 0u);  // 0 in a signal handler
  remcov_remote_start(g_irq_handle.load());
  fixture_in_handler(9);
  remcov_remote_stop();
  g_irq_runs.fetch_add(1, std::memory_order_relaxed);
}

#if defined(__SANITIZE_THREAD__)
constexpr int kIrqDeliveries = 300;
#else
constexpr int kIrqDeliveries = 2000;
#endif

void RunInterruptedWork(RawDevice* local, bool in_task_section,
                        uint64_t task_handle, std::atomic<bool>* stop,
                        uint64_t* calls) {
  if (local) {
    ASSERT_EQ(
        remcov_ioctl(local->fd(), REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC), 0);
    local->Reset();
  }
  while (!stop->load()) {
    if (in_task_section) remcov_remote_start(task_handle);
    fixture_spin(20);
    if (in_task_section) remcov_remote_stop();
    (*calls)++;
  }
  if (local) {
    ASSERT_EQ(remcov_ioctl(local->fd(), REMCOV_KCOV_DISABLE, 0), 0);
  }
}

TEST(RemoteSignalTest, HandlerSectionsInterruptLocalTracingAndTaskSections) {
  struct sigaction sa = {};
  sa.sa_handler = SectionHandler;
  sigemptyset(&sa.sa_mask);
  ASSERT_EQ(sigaction(SIGUSR1, &sa, nullptr), 0);
  RawDevice irq_dev(1 << 20), task_dev(1 << 20), local(1 << 20);
  RemoteOwner irq_owner(irq_dev.fd(), {Usb(0x5001)}, 0, 1 << 12);
  RemoteOwner task_owner(task_dev.fd(), {Usb(0x5002)}, 0, 1 << 12);
  g_irq_handle = Usb(0x5001);
  const uint64_t per_spin = PcsOf([] { fixture_spin(20); });
  const uint64_t per_handler = PcsOf([] { fixture_in_handler(9); });
  for (bool in_task : {false, true}) {
    g_irq_runs = 0;
    const uint64_t exhausted_before = RuntimeStats().irq_pool_exhausted;
    irq_dev.Reset();
    task_dev.Reset();
    std::atomic<bool> stop{false};
    uint64_t calls = 0;
    std::thread worker(RunInterruptedWork, in_task ? nullptr : &local, in_task,
                       Usb(0x5002), &stop, &calls);
    pthread_t w = worker.native_handle();
    // Standard signals coalesce while pending: send until enough handler runs.
    for (long i = 0;
         g_irq_runs.load() < kIrqDeliveries && i < 50L * kIrqDeliveries; i++) {
      pthread_kill(w, SIGUSR1);
      if (i % 4 == 0) std::this_thread::yield();
    }
    EXPECT_GE(g_irq_runs.load(), static_cast<uint64_t>(kIrqDeliveries));
    stop = true;
    worker.join();
    auto irq_stats = irq_dev.Stats();
    const uint64_t runs = g_irq_runs.load();
    // Each handler section landed whole in the irq device (or is counted).
    remcov_runtime_stats_t rs = RuntimeStats();
    const uint64_t exhausted = rs.irq_pool_exhausted - exhausted_before;
    EXPECT_EQ(irq_dev.Count() + irq_stats.overflow_entries,
              (runs - exhausted) * per_handler)
        << "in_task=" << in_task;
    EXPECT_EQ(FixtureFunctions(irq_dev.Pcs()),
              std::set<std::string>{"fixture_in_handler"});
    // The interrupted coverage is intact: exactly per_spin PCs per call, and
    // no handler PCs.
    RawDevice& interrupted = in_task ? task_dev : local;
    EXPECT_EQ(interrupted.Count() + interrupted.Stats().overflow_entries,
              per_spin * calls)
        << "in_task=" << in_task;
    EXPECT_GT(interrupted.Count(), 0u);
    EXPECT_EQ(FixtureFunctions(interrupted.Pcs()),
              std::set<std::string>{"fixture_spin"});
  }
  signal(SIGUSR1, SIG_DFL);
}

// ---- stress: lossless moves with concurrent drains ----
TEST(RemoteStressTest, EveryEntryArrivesExactlyOnceUnderConcurrentDrains) {
  constexpr int kWorkers = 4;
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
  constexpr uint64_t kPerWorker = 2000;
#else
  constexpr uint64_t kPerWorker = 20000;
#endif
  auto col = Collector::Open(RuntimeBackend(), 1 << 12);  // small: many resets
  ASSERT_TRUE(col.ok());
  std::atomic<bool> registered{false}, done{false};
  std::vector<CmpRecord> drained;
  std::thread owner([&] {
    RemoteOptions o;
    o.mode = TraceMode::kCmp;
    o.handles = {Usb(0x6001)};
    o.area_words = 64;
    ASSERT_TRUE(col->EnableRemote(o).ok());
    registered = true;
    while (!done.load()) ASSERT_TRUE(col->DrainCmps(&drained).ok());
    ASSERT_TRUE(col->DrainCmps(&drained).ok());
    ASSERT_TRUE(col->Disable().ok());
  });
  while (!registered.load()) std::this_thread::yield();
  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; w++) {
    workers.emplace_back([w] {
      for (uint64_t s = 0; s < kPerWorker; s++) {
        remcov_remote_start(Usb(0x6001));
        fixture_ident(static_cast<uint64_t>(w) + 1000, s);
        remcov_remote_stop();
      }
    });
  }
  for (auto& t : workers) t.join();
  done = true;
  owner.join();
  // Name every lost and every duplicated identity.
  std::map<std::pair<uint64_t, uint64_t>, int> seen;
  for (const CmpRecord& r : drained) {
    if (FixtureFunction(r.ip) != "fixture_ident") continue;
    seen[{r.arg1, r.arg2}]++;
  }
  auto st = RawDevice::StatsFor(col->fd());
  uint64_t lost = 0, dup = 0;
  std::string report;
  for (int w = 0; w < kWorkers; w++) {
    for (uint64_t s = 0; s < kPerWorker; s++) {
      auto it = seen.find({w + 1000, s});
      int n = it == seen.end() ? 0 : it->second;
      if (n == 0 && lost++ < 10)
        report += " lost(" + std::to_string(w) + "," + std::to_string(s) + ")";
      if (n > 1 && dup++ < 10)
        report += " dup(" + std::to_string(w) + "," + std::to_string(s) + ")";
    }
  }
  EXPECT_EQ(dup, 0u) << report;
  // Only counted drops may be missing: the area never overflows here because
  // the drainer keeps up, but if it did, overflow says how much.
  EXPECT_EQ(lost, st.overflow_entries + st.garbage_entries) << report;
  EXPECT_EQ(st.sections_moved, kWorkers * kPerWorker);
}

}  // namespace
}  // namespace remcov::testing

namespace remcov::testing {
namespace {

TEST(RemoteTest, SectionsCompleteWhileTheRegistrationLockIsHeld) {
  RawDevice d(1 << 16);
  RemoteOwner owner(d.fd(), {Usb(0x7001)});
  {
    std::lock_guard<std::mutex> hold(internal::RegistrationMutexForTesting());
    std::atomic<int> completed{0};
    std::vector<std::thread> workers;
    for (int w = 0; w < 3; w++) {
      workers.emplace_back([&] {
        for (int i = 0; i < 100; i++) {
          remcov_remote_start(Usb(0x7001));  // registered
          fixture_digits("7", 1);
          remcov_remote_stop();
          remcov_remote_start(Usb(0x7002));  // not registered
          remcov_remote_stop();
          completed++;
        }
      });
    }
    for (auto& t : workers) t.join();  // would hang if start/stop took the lock
    EXPECT_EQ(completed.load(), 300);
  }
  EXPECT_EQ(d.Stats().sections_moved, 300u);
}

// Removed handles are reclaimed: the cost of a lookup (the slots it reads)
// does not grow with the handles a process ever registered. 20,000 cycles with
// a new handle each, 2.4 times the map's 8,192 slots: removal by tombstone
// alone left almost every slot a tombstone, and a lookup of an absent handle
// (an unregistered one, or the zero handle threads without a collector pass)
// read thousands of slots instead of a few. bench/remote_cost.sh measures the
// cost in instructions.
TEST(RemoteTest, HandleLookupsDoNotGrowWithRemovedHandles) {
  RawDevice held(1 << 12);
  RemoteOwner owner(held.fd(), {Usb(0x7a01)});
  const uint64_t absent = Usb(0x7a02);
  const uint32_t fresh_registered =
      internal::HandleProbesForTesting(Usb(0x7a01));
  const uint32_t fresh_absent = internal::HandleProbesForTesting(absent);
  const uint32_t fresh_zero = internal::HandleProbesForTesting(0);
  RawDevice churn(1 << 12);
  uint64_t buf[4] = {};
  auto* arg = reinterpret_cast<remcov_kcov_remote_arg*>(buf);
  arg->trace_mode = REMCOV_KCOV_TRACE_PC;
  arg->area_size = 1024;
  arg->num_handles = 1;
  constexpr int kCycles = 20000;
  for (int i = 0; i < kCycles; i++) {
    buf[3] = Usb(0x100000 + static_cast<uint64_t>(i));
    ASSERT_EQ(remcov_ioctl(churn.fd(), REMCOV_KCOV_REMOTE_ENABLE,
                           reinterpret_cast<unsigned long>(buf)),
              0)
        << "cycle " << i << ": " << strerror(errno);
    ASSERT_EQ(remcov_ioctl(churn.fd(), REMCOV_KCOV_DISABLE, 0), 0);
  }
  EXPECT_LE(internal::HandleProbesForTesting(Usb(0x7a01)), fresh_registered);
  EXPECT_LE(internal::HandleProbesForTesting(absent), fresh_absent + 1);
  EXPECT_LE(internal::HandleProbesForTesting(0), fresh_zero + 1);
  // And the map still works: the registered handle collects, the others not.
  const uint64_t before = held.Stats().sections_moved;
  remcov_remote_start(Usb(0x7a01));
  fixture_digits("7", 1);
  remcov_remote_stop();
  remcov_remote_start(absent);
  fixture_digits("7", 1);
  remcov_remote_stop();
  EXPECT_EQ(held.Stats().sections_moved, before + 1);
}

TEST(RemoteTest, OverflowOfPrivateAndSharedAreasIsCounted) {
  RawDevice d(512);  // 511 PCs in the shared area
  RemoteOwner owner(d.fd(), {Usb(0x7101)}, 0,
                    /*area_words=*/64);  // 63 PCs per section
  // How many PCs one fixture_spin(100) produces.
  uint64_t per_call;
  {
    RawDevice probe(1 << 14);
    ASSERT_EQ(
        remcov_ioctl(probe.fd(), REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC), 0);
    probe.Reset();
    fixture_spin(100);
    ASSERT_EQ(remcov_ioctl(probe.fd(), REMCOV_KCOV_DISABLE, 0), 0);
    per_call = probe.Count();
  }
  ASSERT_GT(per_call, 63u);
  for (int i = 0; i < 20; i++) {
    remcov_remote_start(Usb(0x7101));
    fixture_spin(100);
    remcov_remote_stop();
  }
  auto st = d.Stats();
  EXPECT_EQ(st.private_overflow_entries, 20 * (per_call - 63));
  EXPECT_EQ(d.Count(), 511u);
  EXPECT_EQ(st.overflow_entries, 20 * 63 - 511);
}

// The thread keeps its private area, bound to the last handle it found, across
// sections (remote.cc's fast path). A DISABLE, a re-registration of the same
// handle on another device, with another size or mode, must all be seen.
TEST(RemoteTest, RepeatedHandleFollowsItsRegistration) {
  const uint64_t h = Usb(0x7401);
  RawDevice a(1 << 16), b(1 << 16);
  auto section = [h](int (*fn)(const char*, size_t), const char* arg) {
    remcov_remote_start(h);
    fn(arg, strlen(arg));
    remcov_remote_stop();
  };
  {
    RemoteOwner owner(a.fd(), {h});
    section(fixture_digits, "12");
    section(fixture_digits, "34");
  }
  EXPECT_EQ(a.Stats().sections_moved, 2u);
  EXPECT_EQ(FixtureFunctions(a.Pcs()), std::set<std::string>{"fixture_digits"});
  const uint64_t a_count = a.Count();
  // Unregistered now: nothing recorded, nothing counted as dropped.
  auto before = RuntimeStats();
  section(fixture_letters, "ab");
  EXPECT_EQ(RuntimeStats().sequence_dropped_sections,
            before.sequence_dropped_sections);
  EXPECT_EQ(a.Count(), a_count);
  {
    RemoteOwner owner(b.fd(), {h});  // same size: the area is rebound
    section(fixture_letters, "ab");
  }
  EXPECT_EQ(FixtureFunctions(b.Pcs()),
            std::set<std::string>{"fixture_letters"});
  EXPECT_EQ(a.Count(), a_count);
  b.Reset();
  {
    // Another size and comparison mode: the thread's area is replaced.
    RemoteOwner owner(b.fd(), {h}, 0, /*area_words=*/1 << 13,
                      REMCOV_KCOV_TRACE_CMP);
    section(fixture_parse, "KCOV");
  }
  EXPECT_FALSE(RecordsIn(b.area(), "fixture_parse").empty());
  EXPECT_EQ(b.Stats().sections_moved, 2u);
  EXPECT_EQ(a.Count(), a_count);
}

TEST(RemoteTest, EmptySectionsAreCountedAndDroppedLikeOthers) {
  const uint64_t h = Usb(0x7402);
  RawDevice d(1 << 12);
  auto owner = std::make_unique<RemoteOwner>(d.fd(), std::vector<uint64_t>{h});
  for (int i = 0; i < 10; i++) {
    remcov_remote_start(h);
    remcov_remote_stop();
  }
  EXPECT_EQ(d.Stats().sections_moved, 10u);
  EXPECT_EQ(d.Count(), 0u);
  // An empty section that straddles DISABLE is dropped and counted.
  auto before = RuntimeStats();
  remcov_remote_start(h);
  owner.reset();  // KCOV_DISABLE on the owner thread
  remcov_remote_stop();
  auto after = RuntimeStats();
  EXPECT_EQ(after.sequence_dropped_sections,
            before.sequence_dropped_sections + 1);
  EXPECT_EQ(after.sequence_dropped_entries, before.sequence_dropped_entries);
  EXPECT_EQ(d.Stats().sections_moved, 10u);
}

TEST(RemoteTest, SectionWhoseEntriesAllOverflowStillCountsThem) {
  const uint64_t h = Usb(0x7403);
  RawDevice d(1 << 12);
  // One word: the private area holds no entry, so its count stays 0 while
  // everything the section records overflows.
  RemoteOwner owner(d.fd(), {h}, 0, /*area_words=*/1);
  remcov_remote_start(h);
  fixture_digits("123", 3);
  remcov_remote_stop();
  auto st = d.Stats();
  EXPECT_GT(st.private_overflow_entries, 0u);
  EXPECT_EQ(st.sections_moved, 1u);
  EXPECT_EQ(d.Count(), 0u);
}

TEST(RemoteTest, AlternatingHandlesOfDifferentSizesStayApart) {
  const uint64_t ha = Usb(0x7404), hb = Usb(0x7405);
  RawDevice a(1 << 16), b(1 << 16);
  RemoteOwner oa(a.fd(), {ha}, 0, /*area_words=*/1 << 10);
  RemoteOwner ob(b.fd(), {hb}, 0, /*area_words=*/1 << 11);
  for (int i = 0; i < 20; i++) {
    remcov_remote_start(ha);
    fixture_digits("5", 1);
    remcov_remote_stop();
    remcov_remote_start(hb);
    fixture_letters("x", 1);
    remcov_remote_stop();
  }
  EXPECT_EQ(FixtureFunctions(a.Pcs()), std::set<std::string>{"fixture_digits"});
  EXPECT_EQ(FixtureFunctions(b.Pcs()),
            std::set<std::string>{"fixture_letters"});
  EXPECT_EQ(a.Stats().sections_moved, 20u);
  EXPECT_EQ(b.Stats().sections_moved, 20u);
}

TEST(RemoteTest, ThreadPoolAndBindToCollectorAttributeSubmittedWork) {
  remcov::ThreadPool pool(2);
  auto a = Collector::Open(RuntimeBackend(), 1 << 14);
  auto b = Collector::Open(RuntimeBackend(), 1 << 14);
  ASSERT_TRUE(a.ok() && b.ok());
  auto run = [&](Collector& c, uint64_t id, std::function<void()> work) {
    RemoteOptions o;
    o.common_handle = Common(id);
    ASSERT_TRUE(c.EnableRemote(o).ok());
    for (int i = 0; i < 10; i++) pool.Submit(work).wait();
    // BindToCollector on a plain std::thread too.
    std::thread(remcov::BindToCollector(work)).join();
    ASSERT_TRUE(c.Disable().ok());
  };
  std::thread ta(run, std::ref(*a), 0x7201, [] { fixture_digits("1", 1); });
  std::thread tb(run, std::ref(*b), 0x7202, [] { fixture_letters("x", 1); });
  ta.join();
  tb.join();
  std::vector<uint64_t> pa(a->Pcs().begin(), a->Pcs().end());
  std::vector<uint64_t> pb(b->Pcs().begin(), b->Pcs().end());
  EXPECT_EQ(FixtureFunctions(pa), std::set<std::string>{"fixture_digits"});
  EXPECT_EQ(FixtureFunctions(pb), std::set<std::string>{"fixture_letters"});
}

// A handler section into the same device the interrupted thread is moving
// into: it must neither deadlock nor lose data (deferred, then moved).
std::atomic<uint64_t> g_same_runs{0};

void SameDeviceHandler(int) {
  remcov_remote_start(Usb(0x7302));
  fixture_in_handler(11);
  remcov_remote_stop();
  g_same_runs.fetch_add(1, std::memory_order_relaxed);
}

TEST(RemoteSignalTest,
     HandlerSectionIntoTheDeviceBeingMovedIntoIsDeferredNotLost) {
  struct sigaction sa = {};
  sa.sa_handler = SameDeviceHandler;
  sigemptyset(&sa.sa_mask);
  ASSERT_EQ(sigaction(SIGUSR2, &sa, nullptr), 0);
  auto col = Collector::Open(RuntimeBackend(), 1 << 12);
  ASSERT_TRUE(col.ok());
  std::atomic<bool> registered{false}, stop{false}, finished{false};
  std::vector<uint64_t> pcs;
  std::thread owner([&] {
    RemoteOptions o;
    o.handles = {Usb(0x7301), Usb(0x7302)};
    o.area_words = 1 << 12;
    ASSERT_TRUE(col->EnableRemote(o).ok());
    registered = true;
    while (!finished.load()) ASSERT_TRUE(col->DrainPcs(&pcs).ok());
    ASSERT_TRUE(col->DrainPcs(&pcs).ok());
    ASSERT_TRUE(col->Disable().ok());
  });
  while (!registered.load()) std::this_thread::yield();
  const uint64_t per_spin = PcsOf([] { fixture_spin(2); });
  const uint64_t per_handler = PcsOf([] { fixture_in_handler(11); });
  const remcov_runtime_stats_t before = RuntimeStats();
  uint64_t calls = 0;
  std::thread worker([&] {
    while (!stop.load()) {
      remcov_remote_start(Usb(0x7301));
      fixture_spin(2);
      remcov_remote_stop();
      calls++;
    }
  });
  pthread_t w = worker.native_handle();
  for (long i = 0;
       g_same_runs.load() < kIrqDeliveries && i < 50L * kIrqDeliveries; i++) {
    pthread_kill(w, SIGUSR2);
    if (i % 4 == 0) std::this_thread::yield();
  }
  stop = true;
  worker.join();
  finished = true;
  owner.join();
  signal(SIGUSR2, SIG_DFL);
  uint64_t spin_pcs = 0, handler_pcs = 0;
  for (uint64_t pc : pcs) {
    std::string f = FixtureFunction(pc);
    if (f == "fixture_spin") spin_pcs++;
    if (f == "fixture_in_handler") handler_pcs++;
  }
  auto st = RawDevice::StatsFor(col->fd());
  auto rs = RuntimeStats();
  const uint64_t runs = g_same_runs.load();
  // Under a signal storm the worker can be interrupted several times while it
  // holds the move lock; deferred areas then fill the handler pool, and
  // further handler sections are skipped, counted (the kernel's softirq pool
  // rule). Nothing else may be missing.
  const uint64_t exhausted = rs.irq_pool_exhausted - before.irq_pool_exhausted;
  EXPECT_EQ(rs.refused_sections, before.refused_sections);
  EXPECT_EQ(st.sections_moved + exhausted, calls + runs);
  // Every entry is either in the drained coverage or counted as overflow.
  EXPECT_GT(handler_pcs, 0u);
  EXPECT_EQ(spin_pcs + handler_pcs + st.overflow_entries + st.garbage_entries,
            calls * per_spin + (runs - exhausted) * per_handler);
  RecordProperty("sections_deferred", static_cast<int>(st.sections_deferred));
  std::printf(
      "handler sections: %llu, deferred moves: %llu, skipped (pool empty): "
      "%llu\n",
      static_cast<unsigned long long>(runs),
      static_cast<unsigned long long>(st.sections_deferred),
      static_cast<unsigned long long>(exhausted));
}

}  // namespace
}  // namespace remcov::testing
