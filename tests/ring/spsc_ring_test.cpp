#include <catch2/catch.hpp>

#include <thread>
#include <vector>

#include "ring/spsc_ring.h"

using procevents::ring::SpscRing;

TEST_CASE("create accepts powers of two only", "[ring]") {
  CHECK_FALSE(SpscRing<int>::create(0));
  CHECK_FALSE(SpscRing<int>::create(1));
  CHECK_FALSE(SpscRing<int>::create(3));
  CHECK_FALSE(SpscRing<int>::create(1000));
  CHECK(SpscRing<int>::create(2));
  CHECK(SpscRing<int>::create(1024)->capacity() == 1024);
}

TEST_CASE("capacity is exact: full refuses, a pop makes room", "[ring]") {
  auto ring = SpscRing<int>::create(8);
  for (int i = 0; i < 8; ++i) REQUIRE(ring->try_push(i));
  CHECK_FALSE(ring->try_push(99));
  CHECK(ring->size() == 8);
  int out = -1;
  REQUIRE(ring->try_pop(out));
  CHECK(out == 0);
  CHECK(ring->try_push(8));
  CHECK_FALSE(ring->try_push(9));
  CHECK(ring->high_watermark() == 8);
}

TEST_CASE("FIFO order survives many wrap-arounds", "[ring]") {
  auto ring = SpscRing<int>::create(4);
  int next_in = 0, next_out = 0;
  for (int round = 0; round < 10000; ++round) {
    while (ring->try_push(next_in)) ++next_in;
    int out;
    for (int k = 0; k < 1 + round % 4 && ring->try_pop(out); ++k) CHECK(out == next_out++);
  }
  int out;
  while (ring->try_pop(out)) CHECK(out == next_out++);
  CHECK(next_out == next_in);
  CHECK(ring->size() == 0);
}

TEST_CASE("pop_bulk returns what is there, in order", "[ring]") {
  auto ring = SpscRing<int>::create(16);
  for (int i = 0; i < 10; ++i) REQUIRE(ring->try_push(i));
  int out[16];
  CHECK(ring->pop_bulk(out, 4) == 4);
  CHECK(out[0] == 0);
  CHECK(out[3] == 3);
  CHECK(ring->pop_bulk(out, 16) == 6);
  CHECK(out[5] == 9);
  CHECK(ring->pop_bulk(out, 16) == 0);
}

namespace {
void two_threads(bool bulk) {
  constexpr std::uint64_t kCount = 3'000'000;
  auto ring = SpscRing<std::uint64_t>::create(1024);
  std::thread producer([&] {
    for (std::uint64_t i = 0; i < kCount;) {
      if (ring->try_push(i)) {
        ++i;
      } else {
        std::this_thread::yield();
      }
    }
  });
  std::uint64_t expected = 0;
  bool in_order = true;
  std::uint64_t buffer[64];
  while (expected < kCount) {
    const std::size_t n = bulk ? ring->pop_bulk(buffer, 64) : ring->pop_bulk(buffer, 1);
    for (std::size_t i = 0; i < n; ++i) in_order &= buffer[i] == expected++;
    if (n == 0) std::this_thread::yield();
  }
  producer.join();
  CHECK(in_order);
  CHECK(expected == kCount);
  CHECK(ring->size() == 0);
}
}  // namespace

TEST_CASE("a concurrent producer and consumer see every value once, in order", "[ring][concurrency]") {
  two_threads(false);
}

TEST_CASE("a concurrent producer and bulk consumer see every value once, in order", "[ring][concurrency]") {
  two_threads(true);
}
