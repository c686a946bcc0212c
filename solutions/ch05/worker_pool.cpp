#include "ch05/worker_pool.hpp"

#include <algorithm>

#include "ptt/error.hpp"

namespace ptt::ch05 {

WorkerPool::WorkerPool(int workers)
    : workers_(workers), errors_(static_cast<std::size_t>(std::max(workers, 1))) {
  PTT_CHECK(workers >= 1, "a worker pool needs at least one worker");
  threads_.reserve(static_cast<std::size_t>(workers - 1));
  for (int k = 1; k < workers; ++k) threads_.emplace_back([this, k] { serve(k); });
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_.notify_all();
  for (auto& t : threads_) t.join();
}

void WorkerPool::run(const std::function<void(int)>& job) {
  std::fill(errors_.begin(), errors_.end(), nullptr);
  {
    std::lock_guard lock(mutex_);
    job_ = &job;
    running_.store(workers_ - 1, std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);  // publishes job_ and errors_ to the workers
  }
  wake_.notify_all();
  try {
    job(0);
  } catch (...) {
    errors_[0] = std::current_exception();
  }
  // Wait for workers 1 .. p-1: awake for a moment, then asleep.
  spin_until([&] { return running_.load(std::memory_order_acquire) == 0; }, kSpin);
  {
    std::unique_lock lock(mutex_);
    done_.wait(lock, [&] { return running_.load(std::memory_order_acquire) == 0; });
    job_ = nullptr;
  }
  for (const std::exception_ptr& e : errors_)
    if (e) std::rethrow_exception(e);
}

void WorkerPool::serve(int k) {
  std::uint64_t seen = 0;  // the last job this worker ran
  for (;;) {
    spin_until([&] { return generation_.load(std::memory_order_acquire) != seen; }, kSpin);
    const std::function<void(int)>* job = nullptr;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != seen; });
      seen = generation_.load(std::memory_order_relaxed);
      if (stopping_) return;
      job = job_;
    }
    try {
      (*job)(k);
    } catch (...) {
      errors_[static_cast<std::size_t>(k)] = std::current_exception();
    }
    std::lock_guard lock(mutex_);
    if (running_.fetch_sub(1, std::memory_order_release) == 1) done_.notify_one();
  }
}

}  // namespace ptt::ch05
