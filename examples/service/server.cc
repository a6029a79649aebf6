// SPDX-License-Identifier: Apache-2.0
#include "server.h"

#include <time.h>

namespace remcov_service {

Server::Server(const ServiceApi& api, unsigned workers)
    : api_(api), pool_(workers), housekeeping_([this] { Housekeeping(); }) {}

Server::~Server() {
  stop_.store(true, std::memory_order_relaxed);
  housekeeping_.join();
}

int Server::Handle(std::string_view request) {
  int status = 0;
  const ServiceApi* api = &api_;
  pool_
      .Submit([api, request, &status] {
        status = api->handle(reinterpret_cast<const uint8_t*>(request.data()),
                             request.size());
      })
      .wait();
  return status;
}

void Server::WaitTicks(uint64_t n) const {
  while (ticks() < n) std::this_thread::yield();
}

void Server::Housekeeping() {
  // Continuous instrumented work with a short pause per round (the machine
  // may have only two cores).
  const struct timespec pause = {0, 20000};
  for (uint64_t tick = 0; !stop_.load(std::memory_order_relaxed); tick++) {
    api_.housekeeping_tick(tick);
    ticks_.store(tick + 1, std::memory_order_release);
    nanosleep(&pause, nullptr);
  }
}

}  // namespace remcov_service
