// SPDX-License-Identifier: Apache-2.0
// A hook every thread created through the interposed pthread_create runs
// first, on the new thread, before its start routine (interpose_linux.cc).
// `remcov trace --in-process --threads` (trace_env.cc) sets it so that the
// threads a traced process creates trace into the hand-off too.
//
// Thread safety: SetThreadStartHook may be called from any thread; a thread
// created after the store (release) sees the hook (acquire load in
// pthread_create). Not for signal handlers.
#ifndef REMCOV_RUNTIME_THREAD_HOOK_H_
#define REMCOV_RUNTIME_THREAD_HOOK_H_

namespace remcov::internal {

using ThreadStartHook = void (*)();

// Sets (or, with nullptr, clears) the hook.
void SetThreadStartHook(ThreadStartHook hook);

}  // namespace remcov::internal

#endif  // REMCOV_RUNTIME_THREAD_HOOK_H_
