// SPDX-License-Identifier: Apache-2.0
// C++ helpers for KCOV Remote in the runtime: an RAII remote section, and an
// adaptor that makes work submitted to any executor run on behalf of the
// submitting thread's collector (the kernel's vhost/usbip pattern: capture
// kcov_common_handle() where the work is created, run it inside
// kcov_remote_start/stop where it executes).
//
// Thread safety: everything here may be used from any thread. RemoteScope is
// also usable in signal handlers (the softirq analogue).
#ifndef REMCOV_REMOTE_H_
#define REMCOV_REMOTE_H_

#include <stdint.h>

#include <utility>

#include "remcov/remcov.h"

namespace remcov {

// Coverage of the scope goes to the collector that registered `handle`;
// nothing happens for handle 0 or an unregistered handle.
class RemoteScope {
 public:
  explicit RemoteScope(uint64_t handle) { remcov_remote_start(handle); }
  ~RemoteScope() { remcov_remote_stop(); }
  RemoteScope(const RemoteScope&) = delete;
  RemoteScope& operator=(const RemoteScope&) = delete;
};

// The calling thread's common handle (0 if none, and in signal handlers).
inline uint64_t CommonHandle() { return remcov_common_handle(); }

// Wraps f so that, wherever it later runs, it runs in a remote section with
// the common handle of the thread that called BindToCollector. Use it at the
// point where work is submitted to a thread pool, task queue or callback list:
//   pool.Submit(remcov::BindToCollector([=] { Handle(request); }));
template <class F>
auto BindToCollector(F&& f) {
  return [handle = remcov_common_handle(),
          fn = std::forward<F>(f)](auto&&... args) mutable {
    RemoteScope scope(handle);
    return fn(std::forward<decltype(args)>(args)...);
  };
}

}  // namespace remcov

#endif  // REMCOV_REMOTE_H_
