// SPDX-License-Identifier: Apache-2.0
// The files behind a coverage file's modules, for a report: which file to
// symbolize each module with (the load map's path for user modules, the
// given vmlinux, a .ko from the given directory), checked against the
// recorded build-id, and opened as a SourceMap (report/coverage_model.h)
// over the libdw symbolizer and the disassembled sites. Library:
// remcov_report_modules (remcov_report + remcov_symbolize).
//
// Errors name the files and what is missing, never a command-line option:
// when an input the caller did not give is the cause, *missing says which,
// and the caller (tools/remcov/report.cc) names its own option for it.
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

// Which ModuleFiles input a failure is about (kNone: the module's own file).
enum class MissingInput {
  kNone,
  kNoVmlinux,       // kernel PCs, and ModuleFiles::vmlinux is empty
  kVmlinuxAbsent,   // ModuleFiles::vmlinux does not exist
  kNoModuleDir,     // kernel module PCs, and ModuleFiles::module_dir is empty
  kModuleNotInDir,  // no <module>.ko in ModuleFiles::module_dir
};

// The file to symbolize m with. kNotFound, naming what is missing, when
// there is none; *missing (when given) is set on every call.
StatusOr<std::string> ModuleFile(const ModuleFiles& o, const CoverageModule& m,
                                 MissingInput* missing = nullptr);

// ModuleFile, and its build-id checked against m's recorded one
// (kFailedPrecondition: "changed since the run").
StatusOr<std::string> CheckedModuleFile(const ModuleFiles& o,
                                        const CoverageModule& m,
                                        MissingInput* missing = nullptr);

// CheckedModuleFile opened as a SourceMap; kernel module addresses are
// offsets into .text, rebased to where libdwfl laid .text out.
StatusOr<std::unique_ptr<SourceMap>> OpenModule(
    const ModuleFiles& o, const CoverageModule& m,
    MissingInput* missing = nullptr);

}  // namespace remcov::tool

#endif  // REMCOV_REPORT_MODULE_FILES_H_
