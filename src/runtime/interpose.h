// SPDX-License-Identifier: Apache-2.0
// Finding the real implementation behind an interposed libc function
// (interpose_linux.cc, interpose_exec.cc), in this order:
// * the sanitizer's __interceptor_<name> when present (a weak reference):
//   ASan and TSan intercept some of the same functions, and their
//   bookkeeping stays intact;
// * in a statically linked program (-static, -static-pie: libc.a), glibc's
//   own definition under its internal name (a weak, hidden reference: a
//   dynamic program never binds it to libc.so.6, which exports some of
//   those names as GLIBC_PRIVATE, and sees null). The static runtime's link
//   options (cmake/RemcovHelpers.cmake, remcov_static_runtime_link_options)
//   hold the -Wl,--undefined= options that link those objects of libc.a;
// * else dlsym(RTLD_NEXT): libc.so.6's;
// * else `none`, which fails the call with ENOSYS (not glibc): never an
//   abort.
//
// Thread safety: Resolve is; call it once per function (a function-local
// static) and before any vfork child may need it (dlsym takes the loader's
// lock and may allocate). Not for signal handlers before that.
#ifndef REMCOV_RUNTIME_INTERPOSE_H_
#define REMCOV_RUNTIME_INTERPOSE_H_

#include <dlfcn.h>
#include <signal.h>

namespace remcov::internal {

// A program linked with libc.a: glibc's internal definitions are present.
bool StaticProgram();

template <typename Fn>
Fn Resolve(Fn interceptor, Fn internal, const char* name, Fn none) {
  if (interceptor != nullptr) return interceptor;
  if (internal != nullptr && StaticProgram()) return internal;
  void* f = dlsym(RTLD_NEXT, name);
  return f != nullptr ? reinterpret_cast<Fn>(f) : none;
}

using SigactionFn = int (*)(int, const struct sigaction*, struct sigaction*);
// The real sigaction: installs exactly what it is given (no trampoline).
SigactionFn RealSigaction();

// interpose_exec.cc's object is linked whenever this one is.
void LinkExecInterposers();

}  // namespace remcov::internal

#endif  // REMCOV_RUNTIME_INTERPOSE_H_
