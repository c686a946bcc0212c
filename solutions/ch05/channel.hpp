// channel.hpp — the only way chapter 05's workers talk: a one-way, first-in first-out message queue.
//
// A worker owns its part of the model; anything another worker needs (an activation, a gradient,
// a partial sum) is SENT as a value and RECEIVED by the other side, never read from shared memory.
// That is what lets the same code map one to one onto processes (MPI_Send/MPI_Recv) or GPUs
// (a copy on a stream plus an event). One Channel is one directed link, so messages between two
// workers keep their order, as they do on an MPI communicator.
//
// Failure never hangs: recv() waits at most a deadline and then throws, and close() wakes every
// waiter with the reason (a worker that fails closes all links, so its peers stop too).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "ch05/worker_pool.hpp"

namespace ptt::ch05 {

/// Thrown by recv() when the channel was closed (another worker failed) or the deadline passed.
class ChannelError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A FIFO queue between one sender and one receiver thread; unbounded, so send() never blocks.
template <class T>
class Channel {
 public:
  /// @brief Appends @p message (no-op once closed: nobody will read it).
  void send(T message) {
    {
      std::lock_guard lock(mutex_);
      if (closed_) return;
      queue_.push_back(std::move(message));
      available_.fetch_add(1, std::memory_order_release);
    }
    ready_.notify_one();
  }

  /// @brief The oldest message, waiting for one at most @p timeout.
  /// @throws ChannelError when the channel is closed or nothing arrives in time; @p what names
  ///         the awaited message in the error (e.g. "stage 1: activations of micro-batch 3").
  T recv(std::chrono::milliseconds timeout, const std::string& what) {
    // A message that is about to arrive is cheaper to wait for awake: a thread put to sleep on
    // the condition variable takes tens of microseconds to wake up again, as long as a small
    // micro-batch takes to compute. So look for up to kSpin first, then sleep.
    spin_until([&] { return available_.load(std::memory_order_acquire) != 0; }, kSpin);
    std::unique_lock lock(mutex_);
    if (!ready_.wait_for(lock, timeout, [&] { return closed_ || !queue_.empty(); }))
      throw ChannelError(what + ": nothing arrived in " + std::to_string(timeout.count()) +
                         " ms (a deadlock, or a peer that stopped)");
    if (closed_) throw ChannelError(what + ": " + reason_);
    T message = std::move(queue_.front());
    queue_.pop_front();
    available_.fetch_sub(1, std::memory_order_relaxed);
    return message;
  }

  /// @brief Wakes every waiter with @p reason; later sends are dropped.
  void close(const std::string& reason) {
    {
      std::lock_guard lock(mutex_);
      if (closed_) return;
      closed_ = true;
      reason_ = reason;
      available_.fetch_add(1, std::memory_order_release);  // ends a spinning recv() too
    }
    ready_.notify_all();
  }

 private:
  static constexpr std::chrono::microseconds kSpin{50};
  std::atomic<std::size_t> available_{0};  // messages queued (+1 once closed): read without the lock
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<T> queue_;
  bool closed_ = false;
  std::string reason_;
};

/// @brief Runs @p body(k) for k = 0 .. p - 1 on the p workers of @p pool, and waits for them all.
///
/// When a body throws, @p stop is called at once with a reason (it closes the channels, so the
/// peers that wait on them wake up and stop too). After the join, the first exception that is not
/// a ChannelError is rethrown: the cause, not its echoes in the other workers.
/// @param pool    the workers (worker k runs body(k)); p = pool.size().
/// @param name    what a worker is called in messages ("stage", "tp worker").
/// @param body    one worker's work; it talks to the others only through channels.
/// @param stop    called with the reason when a worker fails: closes the channels.
inline void run_workers(WorkerPool& pool, const std::string& name, const std::function<void(int)>& body,
                        const std::function<void(const std::string&)>& stop) {
  std::mutex error_mutex;
  std::exception_ptr cause, echo;
  auto worker = [&](int k) {
    const std::string who = name + " " + std::to_string(k);
    try {
      body(k);
    } catch (const ChannelError&) {
      {
        std::lock_guard lock(error_mutex);
        if (!echo) echo = std::current_exception();
      }
      stop(who + " stopped");
    } catch (const std::exception& e) {
      {
        std::lock_guard lock(error_mutex);
        if (!cause) cause = std::current_exception();
      }
      stop(who + " failed: " + e.what());
    }
  };
  pool.run(worker);
  if (cause) std::rethrow_exception(cause);
  if (echo) std::rethrow_exception(echo);
}

}  // namespace ptt::ch05
