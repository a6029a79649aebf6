// SPDX-License-Identifier: Apache-2.0
// KernelLoadMap (kernel_load_map.h), over the Sys seam.
#include "kernel_client/kernel_load_map.h"

#include <stdio.h>

#include <string>
#include <utility>

#include "format/elf_build_id.h"

namespace remcov {
namespace {

// /proc/modules lists a few hundred lines; the other files are a few bytes.
constexpr size_t kMaxFileBytes = 1 << 20;

// A small text file; "" when it cannot be read.
std::string ReadSmallFile(Sys& sys, const std::string& path) {
  std::string out;
  if (sys.ReadFile(path.c_str(), kMaxFileBytes, &out) != 0) out.clear();
  return out;
}

}  // namespace

KernelLoadMapResult KernelLoadMap(Sys& sys, uint32_t word_bytes) {
  KernelLoadMapResult r;
  std::string text = ReadSmallFile(sys, "/proc/modules");
  for (size_t pos = 0; pos < text.size();) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    std::string line = text.substr(pos, eol - pos);
    pos = eol + 1;
    char name[128];
    unsigned long long size = 0, addr = 0;
    // name size refcount deps state address [taint]
    if (sscanf(line.c_str(), "%127s %llu %*s %*s %*s %llx", name, &size,
               &addr) != 3)
      continue;
    CoverageModule m;
    m.kind = ModuleKind::kKernelModule;
    m.path = name;
    std::string sect = ReadSmallFile(
        sys, std::string("/sys/module/") + name + "/sections/.text");
    unsigned long long text_addr = 0;
    if (sscanf(sect.c_str(), "%llx", &text_addr) == 1 && text_addr != 0)
      addr = text_addr;
    if (addr == 0) {
      m.flags |= kModuleAddressUnknown;
      r.hidden_addresses++;
    } else {
      m.start = addr;
      m.end = addr + size;
      m.bias = addr;  // .text of a .ko is linked at 0
    }
    r.modules.push_back(std::move(m));
  }
  CoverageModule k;
  k.kind = ModuleKind::kKernel;
  k.path = "vmlinux";
  // The running kernel's build-id: its notes are world-readable.
  k.build_id = tool::BuildIdFromNotes(ReadSmallFile(sys, "/sys/kernel/notes"));
  k.start = word_bytes == 4 ? 0xc0000000ull : 0xffff800000000000ull;
  k.end = word_bytes == 4 ? 0xffffffffull : ~uint64_t{0};
  r.modules.push_back(std::move(k));
  return r;
}

}  // namespace remcov
