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

#include "remcov/coverage_file.h"
#include "remcov/status.h"

namespace remcov::handoff {

// Where the parts of a hand-off file lie.
struct Layout {
  uint64_t page = 0;
  uint64_t words = 0;       // the area's words, in whole pages (passed to the
                            // command as REMCOV_HANDOFF_ENV_WORDS)
  uint64_t area_bytes = 0;  // [0, area_bytes): the area
  uint64_t file_bytes = 0;  // the trailer page, then the load-map region
};

// The layout for an area of at least `words` words.
Layout LayoutFor(uint64_t words, uint64_t page);

// What Read found besides the coverage: the tool words these as warnings.
struct ReadNotes {
  // The command ended without exit(): the count of entries that did not fit
  // is unknown.
  bool incomplete = false;
  // Why the load map is missing or partial; nullptr when it is complete.
  const char* load_map_problem = nullptr;
};

// Reads the coverage, mode, counts and load map from a hand-off file mapped
// at `file` (layout.file_bytes long) into *d, and what it noticed into
// *notes (filled as far as Read got, also on error). Errors: kUnavailable
// (the command never attached: no magic), kDataLoss (a corrupt trailer or a
// comparison record with type > 7).
Status Read(const Layout& layout, uint64_t* file, CoverageData* d,
            ReadNotes* notes);

}  // namespace remcov::handoff

#endif  // REMCOV_HANDOFF_HANDOFF_READER_H_
