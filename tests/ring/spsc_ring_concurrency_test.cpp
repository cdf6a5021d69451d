// SpscRing with a real producer thread and a real consumer thread. Labelled `concurrency` so that
// scripts/sanitizers.sh runs these under ThreadSanitizer. Every wait has a deadline: a broken ring
// fails the test instead of hanging it.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

#include "ring/spsc_ring.h"

using procevents::ring::SpscRing;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::uint64_t kCount = 3'000'000;
constexpr auto kDeadline = std::chrono::seconds(60);

enum class Consumer { kTryPop, kPopBulk };

struct Outcome {
  std::uint64_t received = 0;
  bool in_order = true;
  bool timed_out = false;
  std::size_t high_watermark = 0;
};

// The producer pushes 0..count-1, yielding while the ring is full; the consumer checks that it
// gets exactly that sequence.
Outcome stream(std::size_t capacity, std::uint64_t count, Consumer consumer) {
  auto ring = SpscRing<std::uint64_t>::create(capacity);
  REQUIRE(ring);
  std::atomic<bool> stop{false};
  std::thread producer([&] {
    for (std::uint64_t i = 0; i < count && !stop.load(std::memory_order_relaxed);) {
      if (ring->try_push(i)) {
        ++i;
      } else {
        std::this_thread::yield();
      }
    }
  });
  Outcome outcome;
  const auto deadline = Clock::now() + kDeadline;
  std::uint64_t buffer[64];
  while (outcome.received < count) {
    std::size_t n = 0;
    if (consumer == Consumer::kTryPop) {
      n = ring->try_pop(buffer[0]) ? 1 : 0;
    } else {
      n = ring->pop_bulk(buffer, sizeof buffer / sizeof buffer[0]);
    }
    for (std::size_t i = 0; i < n; ++i) outcome.in_order &= buffer[i] == outcome.received++;
    if (n == 0) {
      if (Clock::now() > deadline) {
        outcome.timed_out = true;
        break;
      }
      std::this_thread::yield();
    }
  }
  stop.store(true, std::memory_order_relaxed);
  producer.join();
  std::uint64_t extra = 0;
  while (ring->try_pop(extra)) outcome.in_order = false;  // nothing may follow the last value
  outcome.high_watermark = ring->high_watermark();
  return outcome;
}

}  // namespace

TEST_CASE("ring with concurrent producer and try_pop consumer delivers every value once, in order",
          "[ring][concurrency]") {
  const Outcome outcome = stream(1024, kCount, Consumer::kTryPop);
  CHECK_FALSE(outcome.timed_out);
  CHECK(outcome.in_order);
  CHECK(outcome.received == kCount);
  CHECK(outcome.high_watermark >= 1);
  CHECK(outcome.high_watermark <= 1024);
}

TEST_CASE("ring with concurrent producer and pop_bulk consumer delivers every value once, in order",
          "[ring][concurrency]") {
  const Outcome outcome = stream(1024, kCount, Consumer::kPopBulk);
  CHECK_FALSE(outcome.timed_out);
  CHECK(outcome.in_order);
  CHECK(outcome.received == kCount);
  CHECK(outcome.high_watermark <= 1024);
}

TEST_CASE("ring of two slots, always nearly full, still delivers every value in order", "[ring][concurrency]") {
  const Outcome outcome = stream(2, kCount / 60, Consumer::kPopBulk);
  CHECK_FALSE(outcome.timed_out);
  CHECK(outcome.in_order);
  CHECK(outcome.received == kCount / 60);
  CHECK(outcome.high_watermark <= 2);
}

TEST_CASE("ring size and high watermark stay within capacity when read from a third thread",
          "[ring][concurrency]") {
  auto ring = SpscRing<std::uint64_t>::create(64);
  std::atomic<bool> done{false};
  std::atomic<bool> bounded{true};
  std::thread observer([&] {
    std::size_t last_mark = 0;
    while (!done.load(std::memory_order_relaxed)) {
      const std::size_t mark = ring->high_watermark();
      if (ring->size() > 64 || mark > 64 || mark < last_mark) bounded = false;
      last_mark = mark;
      std::this_thread::yield();
    }
  });
  std::thread producer([&] {
    for (std::uint64_t i = 0; i < 100'000;) {
      if (ring->try_push(i)) {
        ++i;
      } else {
        std::this_thread::yield();
      }
    }
  });
  std::uint64_t received = 0;
  std::uint64_t value = 0;
  const auto deadline = Clock::now() + kDeadline;
  while (received < 100'000 && Clock::now() < deadline) {
    if (ring->try_pop(value)) {
      ++received;
    } else {
      std::this_thread::yield();
    }
  }
  producer.join();
  done = true;
  observer.join();
  CHECK(received == 100'000);
  CHECK(bounded);
}

TEST_CASE("ring notify_consumer wakes a consumer sleeping in wait_for_data without losing a wake-up",
          "[ring][concurrency]") {
  // Ping-pong: each burst is pushed after the consumer drained the last one, so it is usually asleep.
  // A lost wake-up would leave it asleep for the whole (long) timeout.
  constexpr int kBursts = 300;
  constexpr std::uint64_t kBurst = 5;
  constexpr auto kLongSleep = std::chrono::seconds(10);
  auto ring = SpscRing<std::uint64_t>::create(16);
  std::atomic<std::uint64_t> consumed{0};
  std::atomic<bool> abandon{false};
  std::thread producer([&] {
    std::uint64_t next = 0;
    for (int burst = 0; burst < kBursts && !abandon.load(); ++burst) {
      for (std::uint64_t k = 0; k < kBurst; ++k) {
        while (!ring->try_push(next)) std::this_thread::yield();
        ++next;
      }
      ring->notify_consumer();
      while (consumed.load() < next && !abandon.load()) std::this_thread::yield();
    }
  });
  std::uint64_t expected = 0;
  bool in_order = true;
  Clock::duration longest_wait{};
  const auto deadline = Clock::now() + kDeadline;
  std::uint64_t buffer[16];
  while (expected < kBursts * kBurst && Clock::now() < deadline) {
    const std::size_t n = ring->pop_bulk(buffer, 16);
    for (std::size_t i = 0; i < n; ++i) in_order &= buffer[i] == expected++;
    consumed.store(expected);
    if (n == 0) {
      const auto start = Clock::now();
      ring->wait_for_data(kLongSleep);
      if (Clock::now() - start > longest_wait) longest_wait = Clock::now() - start;
    }
  }
  abandon = true;
  producer.join();
  CHECK(in_order);
  CHECK(expected == kBursts * kBurst);
  // Scheduling noise on a loaded machine is far below this; a lost wake-up is the whole timeout.
  CHECK(longest_wait < kLongSleep / 2);
}
