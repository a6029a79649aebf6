// SPDX-License-Identifier: Apache-2.0
// Reads a `remcov trace --in-process` hand-off (handoff_reader.h).
#include "handoff/handoff_reader.h"

#include <string.h>

#include <string_view>
#include <utility>

#include "remcov/collector.h"
#include "remcov/kcov_abi.h"

#include "area/shared_area.h"
#include "handoff/handoff.h"

namespace remcov::handoff {
namespace {

using Area = internal::SharedArea<internal::StdPublishPolicy>;

// The load map the command recorded: the slot named by the active-slot word.
// A missing or unreadable map is a note, not a failure: the PCs are still
// worth having.
void ReadLoadMap(const Layout& l, const uint64_t* trailer, CoverageData* d,
                 ReadNotes* notes) {
  // Pairs with the release store of the slot in PublishLoadMap.
  const uint64_t slot =
      __atomic_load_n(&trailer[REMCOV_HANDOFF_W_MAP_SLOT], __ATOMIC_ACQUIRE);
  const uint64_t region = trailer[REMCOV_HANDOFF_W_MAP_REGION];
  const uint64_t room = l.file_bytes - l.area_bytes - l.page;
  if (slot != 1 && slot != 2) {
    notes->load_map_problem = "the command recorded no load map";
    return;
  }
  const uint64_t bytes = trailer[remcov_handoff_slot_bytes_word(slot)];
  if (region > room || bytes > region / 2) {
    notes->load_map_problem = "the load map in the hand-off is corrupt";
    return;
  }
  const char* base = reinterpret_cast<const char*>(trailer) + l.page +
                     (slot - 1) * (region / 2);
  auto mods = ParseModules(std::string_view(base, static_cast<size_t>(bytes)),
                           trailer[remcov_handoff_slot_modules_word(slot)]);
  if (!mods.ok()) {
    notes->load_map_problem = "the load map in the hand-off is corrupt";
    return;
  }
  d->modules = std::move(mods.value());
  if (trailer[REMCOV_HANDOFF_W_MAP_OVERFLOW] != 0)
    notes->load_map_problem = "the load map did not fit: it is partial";
}

}  // namespace

Layout LayoutFor(uint64_t words, uint64_t page) {
  Layout l;
  l.page = page;
  l.area_bytes = remcov_area_bytes(words, page);
  l.words = l.area_bytes / 8;  // whole pages, as a kernel area
  l.file_bytes = remcov_handoff_file_bytes(l.area_bytes, page);
  return l;
}

Status Read(const Layout& l, uint64_t* file, CoverageData* d,
            ReadNotes* notes) {
  const uint64_t* trailer = file + l.area_bytes / 8;
  if (memcmp(&trailer[REMCOV_HANDOFF_W_MAGIC], REMCOV_HANDOFF_MAGIC,
             REMCOV_HANDOFF_MAGIC_BYTES) != 0) {
    return Status(
        StatusCode::kUnavailable,
        "the command never attached to remcov's runtime: is it built with "
        "-fsanitize-coverage=trace-pc[,trace-cmp] and linked with remcov's "
        "runtime?");
  }
  // Pairs with the release stores of the state in PublishState.
  const uint64_t state =
      __atomic_load_n(&trailer[REMCOV_HANDOFF_W_STATE], __ATOMIC_ACQUIRE);
  const uint64_t mode = trailer[REMCOV_HANDOFF_W_MODE];
  if (mode > REMCOV_KCOV_TRACE_CMP ||
      trailer[REMCOV_HANDOFF_W_WORDS] != l.words)
    return Status(StatusCode::kDataLoss, "corrupt coverage hand-off trailer");
  const uint64_t per = mode == REMCOV_KCOV_TRACE_CMP
                           ? REMCOV_AREA_CMP_ENTRY_WORDS
                           : REMCOV_AREA_PC_ENTRY_WORDS;
  const uint64_t cap = remcov_area_capacity(l.words, per);
  // The Collector's reader: acquire load of the count, clamped to capacity.
  uint64_t count = 0;
  const uint64_t n = Area::Published(file[0], cap, &count);
  d->mode = static_cast<TraceMode>(mode);
  d->word_bytes = 8;
  d->raw_count = count;
  d->flags |= kCoverageInProcess;
  if (state == REMCOV_HANDOFF_COMPLETE) {
    d->dropped = trailer[REMCOV_HANDOFF_W_DROPPED];
    if (d->dropped != 0) d->flags |= kCoverageOverflow;
  } else {
    notes->incomplete = true;
    if (count >= cap) d->flags |= kCoverageOverflow;
  }
  if (count > cap) d->flags |= kCoverageOverflow;  // corrupt or full: clamped
  ReadLoadMap(l, trailer, d, notes);
  const uint64_t* w = file + 1;
  for (uint64_t i = 0; i < n; i++) {
    if (per == 1) {
      d->pcs.push_back(w[i]);
    } else {
      CmpRecord r{w[4 * i], w[4 * i + 1], w[4 * i + 2], w[4 * i + 3]};
      if (!r.valid())
        return Status(StatusCode::kDataLoss, "comparison record with type > 7");
      d->cmps.push_back(r);
    }
  }
  return Status::Ok();
}

}  // namespace remcov::handoff
