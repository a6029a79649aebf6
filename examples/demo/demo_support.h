// SPDX-License-Identifier: Apache-2.0
// What remcov's demos share: the requests they send to the example service
// (examples/service), the name of the service function holding a PC, the
// attribution check of one request's coverage, and writing it as a coverage
// file. Used by remcov_demo (threads) and remcov_prefork_demo (processes).
#ifndef REMCOV_EXAMPLES_DEMO_DEMO_SUPPORT_H_
#define REMCOV_EXAMPLES_DEMO_DEMO_SUPPORT_H_

#include <stddef.h>
#include <stdint.h>

#include <map>
#include <string>
#include <vector>

#include "remcov/collector.h"
#include "remcov/coverage_file.h"

namespace remcov_demo {

struct DemoRequest {
  const char* label;         // file name stem for --cov-dir
  std::string line;          // the request's bytes
  const char* bug_function;  // the planted bug it reaches, or nullptr
};

// One request's coverage as its collector saw it.
struct RequestCoverage {
  std::vector<uint64_t> pcs;
  std::map<std::string, size_t> functions;  // function -> PCs in it
  uint64_t dropped = 0;  // entries that did not fit (the device's counters)
};

// Reads the collector's PCs and dropped-entry counters, then disables it
// (its sections have all ended), and names the functions of the PCs.
// `rebase` is added to every PC first: PCs are addresses in the process that
// ran the section, so those of another program image (a server exec'd on its
// own, with its own load address) are moved into this process's by the
// difference of the two main programs' load biases (MainLoadBias), which is
// exact for code in the main program.
RequestCoverage TakeCoverage(remcov::Collector& col, uint64_t rebase = 0);
// The main program's load bias (where the kernel mapped it: PIE and ASLR).
uint64_t MainLoadBias();

// The demos' requests: one per handler, three of them reaching planted bugs.
std::vector<DemoRequest> DemoRequests();

// The function holding `pc`, demangled, without the service build's
// namespace ("svc_trace::") and parameters; "?" when unknown.
std::string FunctionOf(uint64_t pc);

// Prints the request's functions ("fn count, ...") on one indented line, and
// returns how many attribution errors it found (each printed with "!!"): the
// service's housekeeping code, a planted bug other than the request's own, or
// the request's own planted bug missing.
int PrintAndCheckFunctions(const DemoRequest& req,
                           const std::map<std::string, size_t>& functions);

// Writes one request's PCs as a coverage file (docs/format.md); false (with
// a message printed) when it cannot.
bool WriteRequestCoverage(const std::string& path,
                          const std::vector<uint64_t>& pcs, uint64_t dropped,
                          const std::vector<remcov::CoverageModule>& load_map);

}  // namespace remcov_demo

#endif  // REMCOV_EXAMPLES_DEMO_DEMO_SUPPORT_H_
