// SPDX-License-Identifier: Apache-2.0
// The running kernel's load map, for coverage files of kernel coverage
// (docs/format.md, "Module table"): the loaded modules from /proc/modules
// (their .text address from /sys/module/NAME/sections/.text when readable),
// then vmlinux. KCOV's PCs are KASLR-canonical, so vmlinux has bias 0 and
// covers the kernel half of the address space; the report finds its file
// (`remcov report --vmlinux`). Without root /proc/modules shows address 0:
// such modules are recorded with kModuleAddressUnknown and counted.
// Every file is read through the Sys seam.
//
// Thread safety: as thread-safe as the Sys it is given.
#ifndef REMCOV_KERNEL_CLIENT_KERNEL_LOAD_MAP_H_
#define REMCOV_KERNEL_CLIENT_KERNEL_LOAD_MAP_H_

#include <stddef.h>
#include <stdint.h>

#include <vector>

#include "remcov/coverage_file.h"
#include "remcov/sys.h"

namespace remcov {

struct KernelLoadMapResult {
  std::vector<CoverageModule> modules;  // the modules, then vmlinux
  size_t hidden_addresses = 0;  // modules whose address /proc/modules hides
};

// The load map for a kernel of `word_bytes`-byte words (4 or 8). Unreadable
// files give fewer records, never an error.
KernelLoadMapResult KernelLoadMap(Sys& sys, uint32_t word_bytes);

}  // namespace remcov

#endif  // REMCOV_KERNEL_CLIENT_KERNEL_LOAD_MAP_H_
