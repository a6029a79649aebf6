// SPDX-License-Identifier: Apache-2.0
#include "demo_support.h"

#include <cxxabi.h>
#include <dlfcn.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>

#include "remcov/remcov.h"

namespace remcov_demo {

std::vector<DemoRequest> DemoRequests() {
  std::string frame = "POST /frame ";
  const uint8_t magic[] = {'R', 'C', 'O', 'V', 0x40, 0x00};  // length 64 > 3
  frame.append(reinterpret_cast<const char*>(magic), sizeof magic);
  frame += "abc";
  return {
      {"health", "GET /health", nullptr},
      {"echo", "POST /echo hello", nullptr},
      {"sum", "POST /sum 1,2,3", nullptr},
      {"sum-magic", "POST /sum 1234605616436508551,1", "PlantedBugSumMagic"},
      {"frame-bad-length", frame, "PlantedBugFrameLength"},
      {"files", "GET /files/readme", nullptr},
      {"files-traversal", "GET /files/../etc/passwd", "PlantedBugTraversal"},
      {"method", "DELETE /health", nullptr},
  };
}

std::string FunctionOf(uint64_t pc) {
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(pc), &info) == 0 ||
      info.dli_sname == nullptr)
    return "?";
  int status = 0;
  char* d = abi::__cxa_demangle(info.dli_sname, nullptr, nullptr, &status);
  std::string name = status == 0 && d != nullptr ? d : info.dli_sname;
  free(d);
  if (name.rfind("svc_trace::", 0) == 0) name.erase(0, 11);
  size_t paren = name.find('(');
  if (paren != std::string::npos) name.erase(paren);
  return name;
}

uint64_t MainLoadBias() {
  uint64_t bias = 0;
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* out) {
        *static_cast<uint64_t*>(out) = info->dlpi_addr;
        return 1;  // the first object is the main program
      },
      &bias);
  return bias;
}

RequestCoverage TakeCoverage(remcov::Collector& col, uint64_t rebase) {
  RequestCoverage c;
  auto pcs = col.Pcs();
  c.pcs.assign(pcs.begin(), pcs.end());
  for (uint64_t& pc : c.pcs) pc += rebase;
  remcov_device_stats_t st{};
  remcov_device_stats(col.fd(), &st);
  c.dropped = st.overflow_entries + st.private_overflow_entries;
  (void)col.Disable();
  for (uint64_t pc : c.pcs) c.functions[FunctionOf(pc)]++;
  return c;
}

int PrintAndCheckFunctions(const DemoRequest& req,
                           const std::map<std::string, size_t>& functions) {
  int errors = 0;
  std::string fns;
  for (const auto& [fn, count] : functions) {
    if (!fns.empty()) fns += ", ";
    fns += fn + " " + std::to_string(count);
    if (fn.rfind("Housekeeping", 0) == 0) {
      printf("    !! housekeeping coverage in this request\n");
      errors++;
    }
    if (fn.rfind("PlantedBug", 0) == 0 &&
        (req.bug_function == nullptr || fn != req.bug_function)) {
      printf("    !! %s is another request's planted bug\n", fn.c_str());
      errors++;
    }
  }
  printf("    %s\n", fns.c_str());
  if (req.bug_function != nullptr && functions.count(req.bug_function) == 0) {
    printf("    !! %s missing\n", req.bug_function);
    errors++;
  }
  return errors;
}

bool WriteRequestCoverage(const std::string& path,
                          const std::vector<uint64_t>& pcs, uint64_t dropped,
                          const std::vector<remcov::CoverageModule>& load_map) {
  remcov::CoverageData data;
  data.flags = remcov::kCoverageRemote | remcov::kCoverageInProcess;
  data.raw_count = pcs.size();
  data.dropped = dropped;
  data.pcs = pcs;
  data.modules = load_map;
  if (auto s = remcov::WriteCoverageFile(path, data); !s.ok()) {
    printf("    cannot write %s: %s\n", path.c_str(), s.ToString().c_str());
    return false;
  }
  return true;
}

}  // namespace remcov_demo
