// SPDX-License-Identifier: Apache-2.0
// The image layout of an ELF file that drcov's module table needs (its
// lowest PT_LOAD address and its entry point): only the ELF header and the
// program headers are read, never the whole file.
//
// Thread safety: pure function of the file (pread).
#ifndef REMCOV_REPORT_ELF_IMAGE_H_
#define REMCOV_REPORT_ELF_IMAGE_H_

#include <string>

#include "remcov/status.h"

#include "report/exports.h"

namespace remcov::tool {

// 64- or 32-bit ELF, any type (a relocatable .ko has no PT_LOAD: 0).
// Errors: kNotFound / kIoError (cannot read), kDataLoss (not ELF, truncated
// program headers).
StatusOr<ElfImage> ReadElfImage(const std::string& path);

}  // namespace remcov::tool

#endif  // REMCOV_REPORT_ELF_IMAGE_H_
