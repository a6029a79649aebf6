// SPDX-License-Identifier: Apache-2.0
// Robust, process-shared mutexes in memory that several processes map (a
// device's control page, a domain's table): a process killed while it holds
// one leaves it recoverable (EOWNERDEAD) instead of locked for ever.
#ifndef REMCOV_RUNTIME_ROBUST_MUTEX_H_
#define REMCOV_RUNTIME_ROBUST_MUTEX_H_

#include <errno.h>
#include <pthread.h>

namespace remcov::internal {

// Initializes *mu (in shared memory, before any other process can see it).
inline void InitRobustSharedMutex(pthread_mutex_t* mu) {
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
  pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
  pthread_mutex_init(mu, &attr);
  pthread_mutexattr_destroy(&attr);
}

// Holds *mu for its scope. When the previous holder died holding it,
// recover() runs first (it repairs what that holder left half done), then
// the mutex is marked consistent.
class RobustLock {
 public:
  template <typename Recover>
  RobustLock(pthread_mutex_t* mu, Recover recover) : mu_(mu) {
    if (pthread_mutex_lock(mu_) == EOWNERDEAD) {
      recover();
      pthread_mutex_consistent(mu_);
    }
  }
  explicit RobustLock(pthread_mutex_t* mu) : RobustLock(mu, [] {}) {}
  ~RobustLock() { pthread_mutex_unlock(mu_); }
  RobustLock(const RobustLock&) = delete;
  RobustLock& operator=(const RobustLock&) = delete;

 private:
  pthread_mutex_t* mu_;
};

}  // namespace remcov::internal

#endif  // REMCOV_RUNTIME_ROBUST_MUTEX_H_
