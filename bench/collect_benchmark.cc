// SPDX-License-Identifier: Apache-2.0
// Google Benchmark: the reading side and the move, each beside a baseline
// measured in the same run (the machines are shared and noisy: compare the
// ratio, not the absolute numbers).
//   BM_Dedup/PcSet     vs BM_Dedup/SortUnique   1M PCs, 20k distinct
//   BM_Move            vs BM_Memcpy             1 MiB appended to an area
// Each checks the result of its last iteration (the distinct count, the words
// moved or copied) and reports an error instead of a rate when it is wrong;
// bench/run fails on a reported error.
#include <string.h>

#include <algorithm>
#include <random>
#include <vector>

#include <benchmark/benchmark.h>

#include "remcov/collector.h"

#include "area/shared_area.h"

namespace {

std::vector<uint64_t> MakePcs(size_t n, size_t distinct) {
  std::mt19937_64 rng(42);
  std::vector<uint64_t> base(distinct);
  for (auto& pc : base) pc = 0x400000 + (rng() % (1u << 24)) * 4;
  std::vector<uint64_t> pcs(n);
  // Skewed like real coverage: hot loops repeat a few PCs.
  std::geometric_distribution<size_t> pick(0.0005);
  for (auto& pc : pcs) pc = base[pick(rng) % distinct];
  return pcs;
}

size_t DistinctCount(std::vector<uint64_t> v) {
  std::sort(v.begin(), v.end());
  return static_cast<size_t>(std::unique(v.begin(), v.end()) - v.begin());
}

void BM_DedupPcSet(benchmark::State& state) {
  const auto pcs = MakePcs(1 << 20, 20000);
  size_t distinct = 0;
  for (auto _ : state) {
    remcov::PcSet set;
    for (uint64_t pc : pcs) set.Insert(pc);
    benchmark::DoNotOptimize(distinct = set.size());
  }
  if (distinct != DistinctCount(pcs)) state.SkipWithError("wrong PC count");
  state.SetItemsProcessed(state.iterations() *
                          static_cast<int64_t>(pcs.size()));
}
BENCHMARK(BM_DedupPcSet)->Unit(benchmark::kMillisecond);

void BM_DedupSortUnique(benchmark::State& state) {
  const auto pcs = MakePcs(1 << 20, 20000);
  size_t distinct = 0;
  for (auto _ : state) {
    std::vector<uint64_t> v = pcs;
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    benchmark::DoNotOptimize(distinct = v.size());
  }
  if (distinct != DistinctCount(pcs)) state.SkipWithError("wrong PC count");
  state.SetItemsProcessed(state.iterations() *
                          static_cast<int64_t>(pcs.size()));
}
BENCHMARK(BM_DedupSortUnique)->Unit(benchmark::kMillisecond);

constexpr size_t kMoveWords = (1 << 20) / 8;  // 1 MiB of entries

void BM_Move(benchmark::State& state) {
  using Area = remcov::internal::SharedArea<remcov::internal::StdPublishPolicy>;
  std::vector<uint64_t> area(kMoveWords + 1), src(kMoveWords, 7);
  uint64_t moved = 0;
  for (auto _ : state) {
    area[0] = 0;
    auto r =
        Area::Move(area[0], area.data(), kMoveWords, 1, src.data(), kMoveWords);
    benchmark::DoNotOptimize(moved = r.moved);
    benchmark::ClobberMemory();
  }
  if (moved != kMoveWords || area[0] != kMoveWords || area[kMoveWords] != 7)
    state.SkipWithError("the move did not append every word");
  state.SetBytesProcessed(state.iterations() *
                          static_cast<int64_t>(kMoveWords * 8));
}
BENCHMARK(BM_Move);

void BM_Memcpy(benchmark::State& state) {
  std::vector<uint64_t> dst(kMoveWords + 1), src(kMoveWords, 7);
  for (auto _ : state) {
    memcpy(dst.data() + 1, src.data(), kMoveWords * 8);
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  if (dst[1] != 7 || dst[kMoveWords] != 7)
    state.SkipWithError("memcpy did not copy every word");
  state.SetBytesProcessed(state.iterations() *
                          static_cast<int64_t>(kMoveWords * 8));
}
BENCHMARK(BM_Memcpy);

}  // namespace

BENCHMARK_MAIN();
