// SPDX-License-Identifier: Apache-2.0
// Internals of remcov::Symbolizer that tests and the benchmark look at.
#ifndef REMCOV_SRC_SYMBOLIZE_SYMBOLIZER_INTERNAL_H_
#define REMCOV_SRC_SYMBOLIZE_SYMBOLIZER_INTERNAL_H_

#include <stddef.h>
#include <stdint.h>

#include "remcov/symbolize.h"

namespace remcov::symbolize_internal {

// How many compile units claim `address` in their DW_AT_ranges. More than one
// happens for gcc's COMDAT copies (ld points the discarded copies' debug info
// at the kept copy); addr2line's answer for those depends on which CUs BFD has
// read so far (docs/symbolize.md, "Known differences").
// REQUIRES: s came from Symbolizer::Open.
size_t CompileUnitsCovering(Symbolizer& s, uint64_t address);

// True when the line row for `address` names file 1 of a DWARF 5 line table;
// *file0 is then file 0's name (the CU's primary source). addr2line 2.40
// names file 0 for rows of a sequence that never sets the file register
// (its initial value, 1, is misread): with gcc 12's DWARF 5, functions from
// the header that is file 1 (docs/symbolize.md, "Known differences").
bool RowUsesFileOneOfDwarf5(Symbolizer& s, uint64_t address,
                            std::string* file0);

// A Symbolizer that also reproduces addr2line's history-dependent names for
// functions without DW_AT_linkage_name (BFD renames such a function after the
// ELF symbol the first time it is the innermost frame, and keeps that name
// only when the symbol starts where the function does). Same answers as
// Open() otherwise; given the same addresses in the same order, the same
// output as one `addr2line -f -i -C` process. For the equality test.
StatusOr<std::unique_ptr<Symbolizer>> OpenWithBfdHistory(
    const std::string& elf_path, SymbolizerOptions options = {});

}  // namespace remcov::symbolize_internal

#endif  // REMCOV_SRC_SYMBOLIZE_SYMBOLIZER_INTERNAL_H_
