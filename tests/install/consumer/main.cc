// SPDX-License-Identifier: Apache-2.0
#include <dlfcn.h>

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
  // Loaded before tracing: the loader resolves the plugin's callbacks now.
  void* plugin = dlopen(CONSUMER_PLUGIN, RTLD_NOW | RTLD_LOCAL);
  if (plugin == nullptr) {
    std::fprintf(stderr, "dlopen: %s\n", dlerror());
    return 5;
  }
  auto plugin_fn =
      reinterpret_cast<int (*)(int)>(dlsym(plugin, "consumer_plugin"));
  if (plugin_fn == nullptr) return 6;
  if (!c->Enable(remcov::TraceMode::kPc).ok()) return 2;
  consumer_target(42);
  const size_t target_pcs = c->Pcs().size();
  plugin_fn(7);
  if (!c->Disable().ok()) return 3;
  std::printf("consumer: %zu pcs, plugin: %zu pcs (remcov %s)\n", target_pcs,
              c->Pcs().size() - target_pcs, REMCOV_VERSION_STRING);
  return target_pcs == 0 || c->Pcs().size() == target_pcs ? 4 : 0;
}
