// SPDX-License-Identifier: Apache-2.0
// Reads a `remcov trace --in-process` hand-off (handoff_reader.h).
#include "handoff/handoff_reader.h"

#include <string.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

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
  const uint64_t room = l.slot_bytes - l.area_bytes - l.page;
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
  l.slot_bytes = remcov_handoff_proc_bytes(l.area_bytes, page);
  return l;
}

FileLayout FileLayoutFor(uint64_t words, uint64_t procs, uint64_t page) {
  FileLayout f;
  f.slot = LayoutFor(words, page);
  f.procs = procs;
  f.file_bytes = remcov_handoff_proc_offset(f.slot.slot_bytes, procs, page);
  return f;
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
  notes->pid = trailer[REMCOV_HANDOFF_W_PID];
  notes->ppid = trailer[REMCOV_HANDOFF_W_PPID];
  const uint64_t origin = trailer[REMCOV_HANDOFF_W_ORIGIN];
  notes->forked = origin == REMCOV_HANDOFF_FORKED;
  if (origin > REMCOV_HANDOFF_THREAD)
    return Status(StatusCode::kDataLoss, "corrupt coverage hand-off trailer");
  if (origin == REMCOV_HANDOFF_THREAD) {
    const uint64_t owner = trailer[REMCOV_HANDOFF_W_OWNER];
    if (owner == 0 || owner > REMCOV_HANDOFF_MAX_PROCS)
      return Status(StatusCode::kDataLoss, "corrupt coverage hand-off trailer");
    notes->owner = static_cast<int64_t>(owner - 1);
  }
  // 0: the magic is written but the process died before it attached.
  if (state > REMCOV_HANDOFF_EXECED)
    return Status(StatusCode::kDataLoss, "corrupt coverage hand-off trailer");
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
    if (state == REMCOV_HANDOFF_EXECED)
      notes->execed = true;
    else
      notes->incomplete = true;
    if (count >= cap) d->flags |= kCoverageOverflow;
  }
  if (count > cap) d->flags |= kCoverageOverflow;  // corrupt or full: clamped
  if (notes->owner < 0) ReadLoadMap(l, trailer, d, notes);
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

namespace {

Status CorruptTable(const std::string& what) {
  return Status(StatusCode::kDataLoss,
                "corrupt process table in the coverage hand-off (" + what +
                    "): the traced program overwrote it");
}

}  // namespace

Status ReadAll(const FileLayout& l, uint64_t* file, CoverageData* d,
               FileNotes* notes) {
  // The table is what the tool wrote; anything else was written over.
  if (memcmp(&file[REMCOV_HANDOFF_T_MAGIC], REMCOV_HANDOFF_TABLE_MAGIC,
             REMCOV_HANDOFF_MAGIC_BYTES) != 0)
    return CorruptTable("bad magic");
  if (file[REMCOV_HANDOFF_T_PROCS] != l.procs)
    return CorruptTable("process slot count " +
                        std::to_string(file[REMCOV_HANDOFF_T_PROCS]) +
                        ", not " + std::to_string(l.procs));
  if (file[REMCOV_HANDOFF_T_PROC_BYTES] != l.slot.slot_bytes ||
      file[REMCOV_HANDOFF_T_WORDS] != l.slot.words)
    return CorruptTable("slot size");
  if (file[REMCOV_HANDOFF_T_MODE] > REMCOV_KCOV_TRACE_CMP ||
      file[REMCOV_HANDOFF_T_FOLLOW] > 1)
    return CorruptTable("mode");
  // Pairs with the fetch-and-add of each claim (ClaimProcessSlot).
  const uint64_t claimed =
      __atomic_load_n(&file[REMCOV_HANDOFF_T_CLAIMED], __ATOMIC_ACQUIRE);
  const uint64_t used = claimed < l.procs ? claimed : l.procs;
  notes->refused = claimed - used;
  d->mode = static_cast<TraceMode>(file[REMCOV_HANDOFF_T_MODE]);
  d->word_bytes = 8;
  d->flags |= kCoverageInProcess;
  if (file[REMCOV_HANDOFF_T_THREADS] > 1) return CorruptTable("threads");
  // Every slot first: a thread's entries go after its process's.
  struct Slot {
    bool attached = false;
    CoverageData data;
    ReadNotes notes;
  };
  std::vector<Slot> slots(static_cast<size_t>(used));
  for (uint64_t i = 0; i < used; i++) {
    uint64_t* slot =
        file +
        remcov_handoff_proc_offset(l.slot.slot_bytes, i, l.slot.page) / 8;
    Slot& one = slots[static_cast<size_t>(i)];
    Status s = Read(l.slot, slot, &one.data, &one.notes);
    if (s.code() == StatusCode::kUnavailable) {
      notes->unattached++;  // claimed, then gone before it attached
      continue;
    }
    if (!s.ok()) {
      return Status(s.code(),
                    "process slot " + std::to_string(i) + ": " + s.message());
    }
    if (one.data.mode != d->mode)
      return CorruptTable("slot " + std::to_string(i) + " has another mode");
    one.attached = true;
  }
  // Each thread slot's process: an attached process slot claimed before it.
  std::vector<std::vector<size_t>> threads_of(slots.size());
  for (size_t i = 0; i < slots.size(); i++) {
    const int64_t owner = slots[i].notes.owner;
    if (!slots[i].attached || owner < 0) continue;
    const size_t o = static_cast<size_t>(owner);
    if (o >= i || !slots[o].attached || slots[o].notes.owner >= 0)
      return CorruptTable("slot " + std::to_string(i) +
                          " names no process slot");
    threads_of[o].push_back(i);
    notes->threads++;
  }
  for (size_t i = 0; i < slots.size(); i++) {
    Slot& one = slots[i];
    if (!one.attached || one.notes.owner >= 0) continue;
    ReadNotes& n = one.notes;
    CoverageProcess p;
    p.pid = n.pid;
    p.ppid = n.ppid;
    p.modules = one.data.modules.size();
    for (size_t t : threads_of[i]) {
      CoverageData& td = slots[t].data;
      one.data.pcs.insert(one.data.pcs.end(), td.pcs.begin(), td.pcs.end());
      one.data.cmps.insert(one.data.cmps.end(), td.cmps.begin(), td.cmps.end());
      one.data.flags |= td.flags;
      one.data.raw_count += td.raw_count;
      one.data.dropped += td.dropped;
      // A thread that did not complete: its process died (or exec()ed);
      // the count of its entries that did not fit is unknown.
      if (slots[t].notes.incomplete && !n.execed) n.incomplete = true;
    }
    if (n.forked) p.flags |= kProcessForked;
    if (n.execed) p.flags |= kProcessExeced;
    if (n.incomplete) p.flags |= kProcessNoExit;
    if (n.load_map_problem != nullptr) p.flags |= kProcessMapPartial;
    p.entries = one.data.mode == TraceMode::kPc ? one.data.pcs.size()
                                                : one.data.cmps.size();
    p.dropped = one.data.dropped;
    d->processes.push_back(p);
    d->flags |= one.data.flags;
    d->raw_count += one.data.raw_count;
    d->dropped += one.data.dropped;
    for (CoverageModule& m : one.data.modules)
      d->modules.push_back(std::move(m));
    d->pcs.insert(d->pcs.end(), one.data.pcs.begin(), one.data.pcs.end());
    d->cmps.insert(d->cmps.end(), one.data.cmps.begin(), one.data.cmps.end());
    notes->processes.push_back(n);
  }
  if (d->processes.empty()) {
    return Status(
        StatusCode::kUnavailable,
        "the command never attached to remcov's runtime (none of its "
        "processes did): is it built with "
        "-fsanitize-coverage=trace-pc[,trace-cmp] and linked with remcov's "
        "runtime?");
  }
  return Status::Ok();
}

}  // namespace remcov::handoff
