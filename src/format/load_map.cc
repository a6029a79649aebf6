// SPDX-License-Identifier: Apache-2.0
// remcov::CurrentLoadMap: the calling process's modules, for coverage files
// written by the process itself (the in-process runtime records the same
// encoding for `remcov trace` in src/runtime/trace_env.cc).
#include <elf.h>
#include <link.h>
#include <string.h>
#include <unistd.h>

#include <string>
#include <string_view>
#include <vector>

#include "remcov/coverage_file.h"

#include "base/build_id_note.h"

namespace remcov {
namespace {

struct Walk {
  std::string exe;
  std::vector<CoverageModule> modules;
};

// The NT_GNU_BUILD_ID note of a loaded object, as raw bytes ("" if none).
std::string BuildIdOf(const dl_phdr_info* info) {
  size_t len = 0;
  const unsigned char* id =
      internal::FindBuildIdNote(info, kCoverageModuleBuildIdMax, &len);
  return id == nullptr ? std::string()
                       : std::string(reinterpret_cast<const char*>(id), len);
}

int AddModule(dl_phdr_info* info, size_t /*size*/, void* arg) {
  Walk* w = static_cast<Walk*>(arg);
  uint64_t lo = 0, hi = 0;
  if (!internal::ExecutableRange(info, &lo, &hi))
    return 0;  // nothing executable
  CoverageModule m;
  m.kind = ModuleKind::kUser;
  const char* name = info->dlpi_name;
  m.path = name != nullptr && name[0] != '\0' ? std::string(name) : w->exe;
  if (m.path.empty()) m.path = "?";
  if (m.path.size() > kCoverageModulePathMax)
    m.path.resize(kCoverageModulePathMax);
  m.build_id = HexEncode(BuildIdOf(info));
  m.start = lo;
  m.end = hi;
  m.bias = info->dlpi_addr;
  w->modules.push_back(std::move(m));
  return 0;
}

}  // namespace

std::vector<CoverageModule> CurrentLoadMap() {
  Walk w;
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n > 0) w.exe.assign(buf, static_cast<size_t>(n));
  dl_iterate_phdr(AddModule, &w);
  return w.modules;
}

}  // namespace remcov
