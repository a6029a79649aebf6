// SPDX-License-Identifier: Apache-2.0
// An example fixed-size thread pool that attributes each task's coverage to
// the collector of the thread that submitted it (see remote.h). Header-only;
// a template for adapting one's own executor: the only remcov-specific line is
// the BindToCollector call in Submit.
//
// Thread safety: Submit and Wait may be called from any thread.
#ifndef REMCOV_THREAD_POOL_H_
#define REMCOV_THREAD_POOL_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "remcov/remote.h"

namespace remcov {

class ThreadPool {
 public:
  explicit ThreadPool(unsigned threads) {
    for (unsigned i = 0; i < threads; i++)
      workers_.emplace_back([this] { Run(); });
  }
  ~ThreadPool() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& w : workers_) w.join();
  }
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Runs fn on a worker, attributed to the calling thread's collector. The
  // future becomes ready after the task's remote section has ended, so its
  // coverage is in the collector's area by then.
  std::future<void> Submit(std::function<void()> fn) {
    auto task = std::make_shared<std::packaged_task<void()>>(
        BindToCollector(std::move(fn)));
    std::future<void> done = task->get_future();
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.push_back([task] { (*task)(); });
    }
    cv_.notify_one();
    return done;
  }

 private:
  void Run() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
        if (queue_.empty()) return;
        job = std::move(queue_.front());
        queue_.pop_front();
      }
      job();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stop_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace remcov

#endif  // REMCOV_THREAD_POOL_H_
