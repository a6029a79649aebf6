// SPDX-License-Identifier: Apache-2.0
// The reader's side of the `remcov trace --in-process` hand-off (handoff.h):
// sizes the file `remcov trace` creates, and reads back what the command's
// runtime published into it: the area through the same SharedArea reader as
// the Collector (area/shared_area.h: acquire load of the count, clamped to
// capacity), the trailer, and the load map.
//
// Thread safety: Read only loads from the file (it may be mapped read-only);
// the writer may still be running (a command that has not exited), in which
// case Read sees a published prefix.
#ifndef REMCOV_HANDOFF_HANDOFF_READER_H_
#define REMCOV_HANDOFF_HANDOFF_READER_H_

#include <stddef.h>
#include <stdint.h>

#include <vector>

#include "remcov/coverage_file.h"
#include "remcov/status.h"

namespace remcov::handoff {

// Where the parts of one process slot lie (handoff.h).
struct Layout {
  uint64_t page = 0;
  uint64_t words = 0;       // the area's words, in whole pages
  uint64_t area_bytes = 0;  // [0, area_bytes): the area
  uint64_t slot_bytes = 0;  // then the trailer page, then the load-map region
};

// The layout of a process slot for an area of at least `words` words.
Layout LayoutFor(uint64_t words, uint64_t page);

// Where the parts of a hand-off file lie: the table page, then `procs`
// process slots.
struct FileLayout {
  Layout slot;
  uint64_t procs = 0;
  uint64_t file_bytes = 0;
};

// The file for `procs` (1 to REMCOV_HANDOFF_MAX_PROCS) processes of at
// least `words` words each.
FileLayout FileLayoutFor(uint64_t words, uint64_t procs, uint64_t page);

// What Read found in one process slot besides the coverage.
struct ReadNotes {
  uint64_t pid = 0;
  uint64_t ppid = 0;
  bool forked = false;  // a fork() child of ppid
  // It exec()ed a program that took over its pid (and a later slot).
  bool execed = false;
  // It ended without exit() and did not exec() a traced program: the count
  // of entries that did not fit is unknown.
  bool incomplete = false;
  // Why the load map is missing or partial; nullptr when it is complete.
  const char* load_map_problem = nullptr;
  // A thread's slot (--threads): its process's slot index, else -1. A
  // thread slot has no load map of its own.
  int64_t owner = -1;
};

// Reads the coverage, mode, counts and load map from one process slot
// mapped at `slot` (layout.slot_bytes long) into *d, and what it noticed
// into *notes (filled as far as Read got, also on error). Errors:
// kUnavailable (the slot was never attached: no magic), kDataLoss (a
// corrupt trailer or a comparison record with type > 7).
Status Read(const Layout& layout, uint64_t* slot, CoverageData* d,
            ReadNotes* notes);

// What ReadAll found besides the coverage: the tool words these as warnings.
struct FileNotes {
  std::vector<ReadNotes> processes;  // in slot order, those that attached
  uint64_t unattached = 0;  // slots claimed by a process that died before
                            // it attached
  uint64_t refused = 0;     // processes (or threads) that found every slot
                            // taken
  uint64_t threads = 0;     // thread slots read (their entries are in their
                            // processes'); 0 without --threads
};

// Reads every process slot of a hand-off file mapped at `file`
// (layout.file_bytes long) into *d: its processes in slot order, each with
// its own load map (CoverageData::processes), the entries known lost summed.
// A thread slot's entries and counters are its process's: they follow the
// process slot's own entries, in slot order.
// The table is checked against `layout` (what the tool wrote) first.
// Errors: kUnavailable (no process attached), kDataLoss (a corrupt table or
// slot: the traced program overwrote it).
Status ReadAll(const FileLayout& layout, uint64_t* file, CoverageData* d,
               FileNotes* notes);

}  // namespace remcov::handoff

#endif  // REMCOV_HANDOFF_HANDOFF_READER_H_
