// SPDX-License-Identifier: Apache-2.0
#include <cstdio>

#include "remcov/collector.h"
#include "remcov/version.h"

extern "C" int consumer_target(int x);

int main() {
  auto c = remcov::Collector::Open(remcov::RuntimeBackend(), 4096);
  if (!c.ok()) {
    std::fprintf(stderr, "%s\n", c.status().ToString().c_str());
    return 1;
  }
  if (!c->Enable(remcov::TraceMode::kPc).ok()) return 2;
  consumer_target(42);
  if (!c->Disable().ok()) return 3;
  std::printf("consumer: %zu pcs (remcov %s)\n", c->Pcs().size(),
              REMCOV_VERSION_STRING);
  return c->Pcs().empty() ? 4 : 0;
}
