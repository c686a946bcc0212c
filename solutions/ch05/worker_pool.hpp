// worker_pool.hpp — chapter 05's workers: threads that are started once, with the model, and
// then handed one job per phase of a step.
//
// Starting a thread and joining it costs tens of microseconds (the kernel creates it, the
// scheduler places it, and the C library gives it a memory arena that it trims again when the
// thread ends, so the next thread's first allocations fault their pages back in). A step of the
// small MLP takes about a millisecond and needs its workers twice (forward and backward, then the
// update), so a thread per worker per phase would cost a sizeable share of the step. Frameworks
// keep their workers for the same reason: MPI starts its ranks once, a GPU runtime its streams.
//
// Worker 0 is the calling thread itself; workers 1 .. p-1 wait for the next job, first awake for
// a moment (a job that comes within kSpin is picked up at once, as Channel::recv does with a
// message), then asleep on a condition variable.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace ptt::ch05 {

/// @brief Polls @p done, yielding the core between polls, until it holds or @p limit has passed.
/// Waiting awake is cheaper than sleeping for what is about to happen: a thread woken from a
/// condition variable takes tens of microseconds to run again (MPI libraries poll for the same
/// reason). @return true when @p done holds.
template <class Done>
bool spin_until(Done done, std::chrono::microseconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::yield();
  }
  return true;
}

/// p workers that live as long as the pool: run(job) runs job(k) on worker k, all at once.
class WorkerPool {
 public:
  /// @brief Starts @p workers - 1 threads (the caller of run() is worker 0).
  explicit WorkerPool(int workers);
  /// Wakes the threads and joins them.
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  /// The number of workers p, the calling thread included.
  int size() const { return workers_; }

  /// @brief Runs @p job(k) for k = 0 .. size() - 1 at once (job(0) on the calling thread) and
  /// returns when every one of them has returned.
  /// @throws the exception of the lowest-numbered worker that threw, once all have returned.
  void run(const std::function<void(int)>& job);

 private:
  void serve(int k);  // worker k's loop: wait for a job, run it, report, repeat

  static constexpr std::chrono::microseconds kSpin{200};
  const int workers_;
  std::mutex mutex_;
  std::condition_variable wake_;  // a new job (or the end) for the workers
  std::condition_variable done_;  // the last worker finished the job
  const std::function<void(int)>* job_ = nullptr;
  std::atomic<std::uint64_t> generation_{0};  // jobs handed out so far; a worker waits for it to change
  std::atomic<int> running_{0};               // workers 1 .. p-1 still inside the current job
  bool stopping_ = false;
  std::vector<std::exception_ptr> errors_;  // errors_[k]: what job(k) threw, if anything
  std::vector<std::thread> threads_;
};

}  // namespace ptt::ch05
