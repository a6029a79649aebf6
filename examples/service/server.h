// SPDX-License-Identifier: Apache-2.0
// The example multi-threaded service: requests are parsed, routed and handled
// on a remcov::ThreadPool (each task runs in a remote section with the
// submitter's common handle), while a housekeeping thread runs instrumented
// code continuously. This glue is not instrumented; the instrumented code is
// the ServiceApi it drives (service_api.h).
//
// Construct a Server on a thread without a common handle (e.g. main, before
// any collector is enabled): its threads inherit the creator's handle.
#ifndef REMCOV_EXAMPLES_SERVICE_SERVER_H_
#define REMCOV_EXAMPLES_SERVICE_SERVER_H_

#include <stdint.h>

#include <atomic>
#include <string_view>
#include <thread>

#include "remcov/thread_pool.h"

#include "service_api.h"

namespace remcov_service {

class Server {
 public:
  Server(const ServiceApi& api, unsigned workers);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Handles one request on a worker and returns its status. The request's
  // coverage goes to the calling thread's collector (if it has a common
  // handle) and is in its area when this returns.
  int Handle(std::string_view request);

  // Housekeeping rounds completed so far.
  uint64_t ticks() const { return ticks_.load(std::memory_order_acquire); }
  // Blocks until at least `n` rounds have completed.
  void WaitTicks(uint64_t n) const;

  const ServiceApi& api() const { return api_; }

 private:
  void Housekeeping();

  const ServiceApi& api_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> ticks_{0};
  remcov::ThreadPool pool_;
  std::thread housekeeping_;
};

}  // namespace remcov_service

#endif  // REMCOV_EXAMPLES_SERVICE_SERVER_H_
