// Lock-free single-producer / single-consumer ring of trivially copyable values.
//
// Contract: exactly one thread (the producer) calls try_push() and notify_consumer(), and exactly one
// other thread (the consumer) calls try_pop(), pop_bulk() and wait_for_data(); size(), capacity(),
// high_watermark(), pushed() and wake_consumer() may be called from any thread. Every call is noexcept and nothing allocates
// after create().
//
// Design (after rigtorp/SPSCQueue): 64-bit indices that only grow (they cannot wrap in practice),
// masked by capacity - 1, so all `capacity` slots are usable without a slack slot. The producer's
// and the consumer's index live on separate cache lines, and each side keeps a private copy of the
// other's index, reading the shared line only when its copy says "full" or "empty". Each side loads
// its own index relaxed; one release store publishes, one acquire load observes. The slot array is
// padded at both ends so no neighbouring heap object shares its first or last cache line.
//
// Lifecycle:
//   1. create(capacity) once, at start-up; the ring is owned through the returned unique_ptr and is
//      neither copyable nor movable (both threads hold a reference to it).
//   2. producer: try_push() each value, then notify_consumer() once per batch;
//      consumer: pop_bulk()/try_pop() until empty, then wait_for_data(timeout).
//   3. destroy after both threads have stopped.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <new>
#include <stop_token>
#include <type_traits>

#include "common/zeroed_array.h"

namespace procevents::ring {

// A fixed 64 rather than std::hardware_destructive_interference_size: g++ warns that the latter may
// differ between compiler flags (-Winterference-size), which would change this type's layout.
inline constexpr std::size_t kCacheLine = 64;

template <class T>
class SpscRing {
  static_assert(std::is_trivially_copyable_v<T>, "slots are overwritten in place, never destroyed");
  static_assert(std::is_nothrow_default_constructible_v<T>, "slots start as all-zero values, at create()");

 public:
  /// A ring of exactly `capacity` usable slots. Returns nullptr when `capacity` is not a power of
  /// two >= 2, or when the slots cannot be allocated. A start-up call: the only one that allocates.
  static std::unique_ptr<SpscRing> create(std::size_t capacity) noexcept {
    if (capacity < 2 || (capacity & (capacity - 1)) != 0) return nullptr;
    if (capacity > (SIZE_MAX / sizeof(T)) - 2 * kPadding) return nullptr;
    try {
      return std::make_unique<SpscRing>(CreateKey{}, capacity);
    } catch (const std::bad_alloc&) {  // also std::bad_array_new_length
      return nullptr;
    }
  }

  /// Lets only create() call the constructor while keeping it usable by std::make_unique.
  struct CreateKey {
   private:
    friend class SpscRing;
    CreateKey() = default;
  };
  /// Use create().
  SpscRing(CreateKey, std::size_t capacity)
      : capacity_(capacity), mask_(capacity - 1), slots_(capacity + 2 * kPadding) {
    static_assert(alignof(SpscRing) == kCacheLine, "the indices must start on their own cache lines");
  }

  SpscRing(const SpscRing&) = delete;
  SpscRing& operator=(const SpscRing&) = delete;

  /// Producer only. Copies `value` into the ring; false when the ring is full, in which case nothing
  /// changes and the caller decides (and counts) what the drop means. Never blocks.
  [[nodiscard]] bool try_push(const T& value) noexcept {
    const std::uint64_t write = write_.load(std::memory_order_relaxed);
    if (write - read_cache_ >= capacity_) {
      read_cache_ = read_.load(std::memory_order_acquire);
      if (write - read_cache_ >= capacity_) return false;
    }
    slots_[kPadding + (write & mask_)] = value;
    write_.store(write + 1, std::memory_order_release);
    note_fill(write + 1);
    return true;
  }

  /// Consumer only. Moves the oldest value into `out`; false (and `out` untouched) when empty.
  [[nodiscard]] bool try_pop(T& out) noexcept { return pop_bulk(&out, 1) == 1; }

  /// Consumer only. Moves up to `max` of the oldest values, in order, into `out[0..n)` and returns n
  /// (0 when empty or when max is 0). One acquire load at most and one release store for the batch.
  std::size_t pop_bulk(T* out, std::size_t max) noexcept {
    const std::uint64_t read = read_.load(std::memory_order_relaxed);
    if (write_cache_ - read < max) write_cache_ = write_.load(std::memory_order_acquire);
    const std::uint64_t available = write_cache_ - read;
    const std::size_t count = available < max ? static_cast<std::size_t>(available) : max;
    for (std::size_t i = 0; i < count; ++i) out[i] = slots_[kPadding + ((read + i) & mask_)];
    if (count != 0) read_.store(read + count, std::memory_order_release);
    return count;
  }

  /// Producer only, after a batch of pushes: wakes a consumer blocked in wait_for_data(). Cheap when
  /// nobody waits (a fence and a load), so call it once per batch, not per value.
  void notify_consumer() noexcept {
    // Pairs with the fence in wait_for_data(): either this load sees the waiter's flag, or the
    // waiter's load of write_ sees our pushes (store-buffering is ruled out by the two fences).
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (consumer_waiting_.load(std::memory_order_relaxed)) {
      // Taking the mutex means the waiter is already inside wait_for(), so the notify cannot be lost.
      std::lock_guard lock(wait_mutex_);
      wait_cv_.notify_one();
    }
  }

  /// wait_for_data() without a time limit.
  static constexpr std::chrono::microseconds kForever = std::chrono::microseconds::max();

  /// Consumer only: returns at once when the ring is not empty or `stop` is requested; otherwise
  /// blocks until notify_consumer() or wake_consumer() is called, `timeout` passes (never with
  /// kForever), or a spurious wake-up. The caller re-polls. The only blocking call; the producer
  /// never waits for the consumer.
  void wait_for_data(std::chrono::microseconds timeout, const std::stop_token& stop = {}) noexcept {
    std::unique_lock lock(wait_mutex_);
    consumer_waiting_.store(true, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (write_.load(std::memory_order_relaxed) == read_.load(std::memory_order_relaxed) && !stop.stop_requested()) {
      if (timeout == kForever) {
        wait_cv_.wait(lock);
      } else {
        wait_cv_.wait_for(lock, timeout);
      }
    }
    consumer_waiting_.store(false, std::memory_order_relaxed);
  }

  /// Any thread: wakes a consumer blocked in wait_for_data() whether or not there is data, e.g.
  /// from a stop callback (the stop is requested before this call, and wait_for_data() checks it
  /// under the same mutex, so the wake-up cannot be lost).
  void wake_consumer() noexcept {
    std::lock_guard lock(wait_mutex_);
    wait_cv_.notify_all();
  }

  /// Values waiting: exact when called by the consumer or the producer while the other side is
  /// idle, otherwise a snapshot that may be stale by the other side's progress; never > capacity().
  std::size_t size() const noexcept {
    const std::uint64_t read = read_.load(std::memory_order_acquire);
    const std::uint64_t write = write_.load(std::memory_order_acquire);
    // read_ is loaded first, so write >= read; both may have moved on between the loads.
    const std::uint64_t used = write >= read ? write - read : 0;
    return used < capacity_ ? static_cast<std::size_t>(used) : capacity_;
  }

  /// Values pushed since create() (any thread; acquire: the values themselves are visible to the consumer).
  std::uint64_t pushed() const noexcept { return write_.load(std::memory_order_acquire); }

  /// The number of usable slots, as passed to create().
  std::size_t capacity() const noexcept { return capacity_; }

  /// The largest size() seen by the producer right after one of its pushes since create(); it only
  /// grows and never exceeds capacity(). Relaxed: a reader may see a slightly older maximum.
  std::size_t high_watermark() const noexcept {
    return static_cast<std::size_t>(high_watermark_.load(std::memory_order_relaxed));
  }

 private:
  // Enough slots of padding to fill a cache line at each end of the slot array.
  static constexpr std::size_t kPadding = (kCacheLine - 1) / sizeof(T) + 1;

  // The cached read index only gives an upper bound of the fill level (it is refreshed only when
  // the ring looks full), so refresh it whenever that bound would raise the watermark. Once the
  // watermark is w, the shared line is read at most about once per w pushes in steady state.
  void note_fill(std::uint64_t write) noexcept {
    const std::uint64_t mark = high_watermark_.load(std::memory_order_relaxed);
    if (write - read_cache_ <= mark) return;
    read_cache_ = read_.load(std::memory_order_acquire);
    const std::uint64_t used = write - read_cache_;
    if (used > mark) high_watermark_.store(used, std::memory_order_relaxed);  // one writer: no CAS
  }

  // Read-only after construction: shared by both sides without contention.
  const std::size_t capacity_;
  const std::size_t mask_;
  ZeroedArray<T> slots_;  // zero pages: resident as the ring is first filled, not at start-up

  alignas(kCacheLine) std::atomic<std::uint64_t> write_{0};  // producer-owned
  std::uint64_t read_cache_ = 0;                              // producer's copy of read_
  std::atomic<std::uint64_t> high_watermark_{0};              // producer-written

  alignas(kCacheLine) std::atomic<std::uint64_t> read_{0};  // consumer-owned
  std::uint64_t write_cache_ = 0;                            // consumer's copy of write_

  // Only touched on the consumer's sleep path and once per producer batch.
  alignas(kCacheLine) std::atomic<bool> consumer_waiting_{false};
  std::mutex wait_mutex_;
  std::condition_variable wait_cv_;
};

}  // namespace procevents::ring
