// SPDX-License-Identifier: Apache-2.0
// The files behind a coverage file's modules, for a report: which file to
// symbolize each module with (the load map's path for user modules, the
// given vmlinux, a .ko from the given directory), checked against the
// recorded build-id, and opened as a SourceMap (report/coverage_model.h)
// over the libdw symbolizer and the disassembled sites. Library:
// remcov_report_modules (remcov_report + remcov_symbolize).
//
// Errors are meant for the person running `remcov report`/`remcov diff` and
// name its options (--vmlinux, --module-dir); tests/report pins them.
#ifndef REMCOV_REPORT_MODULE_FILES_H_
#define REMCOV_REPORT_MODULE_FILES_H_

#include <memory>
#include <string>

#include "remcov/coverage_file.h"
#include "remcov/status.h"

#include "report/coverage_model.h"

namespace remcov::tool {

// Where the kernel's files are (empty: not given).
struct ModuleFiles {
  std::string vmlinux;     // the kernel image with DWARF
  std::string module_dir;  // holds <module>.ko (or with '-' for '_')
};

// The file to symbolize m with. kNotFound, naming what is missing, when
// there is none.
StatusOr<std::string> ModuleFile(const ModuleFiles& o, const CoverageModule& m);

// ModuleFile, and its build-id checked against m's recorded one
// (kFailedPrecondition: "changed since the run").
StatusOr<std::string> CheckedModuleFile(const ModuleFiles& o,
                                        const CoverageModule& m);

// CheckedModuleFile opened as a SourceMap; kernel module addresses are
// offsets into .text, rebased to where libdwfl laid .text out.
StatusOr<std::unique_ptr<SourceMap>> OpenModule(const ModuleFiles& o,
                                                const CoverageModule& m);

}  // namespace remcov::tool

#endif  // REMCOV_REPORT_MODULE_FILES_H_
