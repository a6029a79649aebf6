// SPDX-License-Identifier: Apache-2.0
// The GNU build-id of an ELF file or of a note blob (/sys/kernel/notes), so
// `remcov report` can tell that a module changed since the run and
// `remcov trace` can record the running kernel's.
//
// Thread safety: pure functions (ReadBuildId reads the file with pread).
#ifndef REMCOV_FORMAT_ELF_BUILD_ID_H_
#define REMCOV_FORMAT_ELF_BUILD_ID_H_

#include <string>
#include <string_view>

#include "remcov/status.h"

namespace remcov::tool {

// Lower-case hex of the first NT_GNU_BUILD_ID note in a sequence of ELF
// notes (4-byte aligned, native endianness); "" when there is none.
std::string BuildIdFromNotes(std::string_view notes);

// The build-id of an ELF file (64- or 32-bit, any type, from its SHT_NOTE
// sections or, without section headers, its PT_NOTE segments); "" when it
// has none. Errors: kNotFound / kIoError (cannot read), kDataLoss (not ELF).
StatusOr<std::string> ReadBuildId(const std::string& path);

}  // namespace remcov::tool

#endif  // REMCOV_FORMAT_ELF_BUILD_ID_H_
