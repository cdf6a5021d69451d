// Lock-free single-producer / single-consumer ring of trivially copyable values.
//
// Contract: exactly one thread calls try_push() and exactly one (other) thread calls try_pop() /
// pop_bulk(); size(), capacity() and high_watermark() may be called from anywhere.
//
// Design (after rigtorp/SPSCQueue): 64-bit indices that only grow, masked by capacity - 1, so all
// `capacity` slots are usable; the producer and consumer indices live on separate cache lines and
// each side keeps a private copy of the other's index, touching the shared line only when its
// copy says "full" or "empty". One release store publishes, one acquire load observes. Nothing
// allocates after create().
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <type_traits>

namespace procevents::ring {

inline constexpr std::size_t kCacheLine = 64;

template <class T>
class SpscRing {
  static_assert(std::is_trivially_copyable_v<T>, "slots are copied with memcpy semantics");

 public:
  /// A ring of exactly `capacity` slots, or nullptr unless capacity is a power of two >= 2.
  static std::unique_ptr<SpscRing> create(std::size_t capacity) {
    if (capacity < 2 || (capacity & (capacity - 1)) != 0) return nullptr;
    return std::make_unique<SpscRing>(CreateKey{}, capacity);
  }

  struct CreateKey {
   private:
    friend class SpscRing;
    CreateKey() = default;
  };
  /// Use create(); public only so make_unique can reach it (the key keeps others out).
  SpscRing(CreateKey, std::size_t capacity)
      : capacity_(capacity), mask_(capacity - 1), slots_(std::make_unique<T[]>(capacity)) {}

  SpscRing(const SpscRing&) = delete;
  SpscRing& operator=(const SpscRing&) = delete;

  /// Producer only. False when full: the caller decides (and counts) what a drop means.
  [[nodiscard]] bool try_push(const T& value) noexcept {
    const std::uint64_t write = write_.load(std::memory_order_relaxed);
    if (write - read_cache_ >= capacity_) {
      read_cache_ = read_.load(std::memory_order_acquire);
      if (write - read_cache_ >= capacity_) return false;
    }
    slots_[write & mask_] = value;
    write_.store(write + 1, std::memory_order_release);
    const std::uint64_t used = write + 1 - read_cache_;  // an upper bound of the true fill level
    if (used > high_watermark_.load(std::memory_order_relaxed)) {
      high_watermark_.store(used, std::memory_order_relaxed);  // single writer: no CAS needed
    }
    return true;
  }

  /// Consumer only. False when empty.
  [[nodiscard]] bool try_pop(T& out) noexcept { return pop_bulk(&out, 1) == 1; }

  /// Consumer only. Pops up to `max` values into `out`; returns how many.
  std::size_t pop_bulk(T* out, std::size_t max) noexcept {
    const std::uint64_t read = read_.load(std::memory_order_relaxed);
    if (write_cache_ - read < max) write_cache_ = write_.load(std::memory_order_acquire);
    const std::uint64_t available = write_cache_ - read;
    const std::size_t count = static_cast<std::size_t>(available < max ? available : max);
    for (std::size_t i = 0; i < count; ++i) out[i] = slots_[(read + i) & mask_];
    if (count) read_.store(read + count, std::memory_order_release);
    return count;
  }

  /// Producer only, after a batch of pushes: wakes a consumer blocked in wait_for_data(). Cheap
  /// when nobody waits (one fence and a load), so call it once per batch, not per value.
  void notify_consumer() noexcept {
    // Pairs with the fence in wait_for_data(): either we see the waiter's flag, or it sees our writes.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (consumer_waiting_.load(std::memory_order_relaxed)) {
      std::lock_guard lock(wait_mutex_);
      wait_cv_.notify_one();
    }
  }

  /// Consumer only: blocks until data is available, notify_consumer() is called, or `timeout`
  /// passes. Returns immediately when the ring is not empty.
  void wait_for_data(std::chrono::microseconds timeout) noexcept {
    std::unique_lock lock(wait_mutex_);
    consumer_waiting_.store(true, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (write_.load(std::memory_order_relaxed) == read_.load(std::memory_order_relaxed)) {
      wait_cv_.wait_for(lock, timeout);
    }
    consumer_waiting_.store(false, std::memory_order_relaxed);
  }

  /// Values waiting (exact when called by the consumer, approximate elsewhere).
  std::size_t size() const noexcept {
    const std::uint64_t read = read_.load(std::memory_order_acquire);
    const std::uint64_t write = write_.load(std::memory_order_acquire);
    return write >= read ? static_cast<std::size_t>(write - read) : 0;
  }
  std::size_t capacity() const noexcept { return capacity_; }
  /// The largest fill level seen by the producer since creation (may overstate by the consumer's lag).
  std::size_t high_watermark() const noexcept {
    return static_cast<std::size_t>(high_watermark_.load(std::memory_order_relaxed));
  }

 private:
  const std::size_t capacity_;
  const std::size_t mask_;
  std::unique_ptr<T[]> slots_;

  alignas(kCacheLine) std::atomic<std::uint64_t> write_{0};  // producer-owned
  std::uint64_t read_cache_ = 0;                              // producer's copy of read_
  std::atomic<std::uint64_t> high_watermark_{0};              // producer-written
  alignas(kCacheLine) std::atomic<std::uint64_t> read_{0};   // consumer-owned
  std::uint64_t write_cache_ = 0;                             // consumer's copy of write_
  alignas(kCacheLine) std::atomic<bool> consumer_waiting_{false};  // only touched on the sleep path
  std::mutex wait_mutex_;
  std::condition_variable wait_cv_;
};

}  // namespace procevents::ring
