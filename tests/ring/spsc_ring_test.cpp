// Single-threaded behaviour of SpscRing: capacity, order, wrap-around, bulk pops, watermark, waiting.
// The two-thread tests are in spsc_ring_concurrency_test.cpp.
#include <catch2/catch.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <vector>

#include "ring/spsc_ring.h"

using procevents::ring::SpscRing;

namespace {
// Shaped like a connector event: bigger than a pointer, smaller than a cache line, odd size.
struct Record {
  std::uint64_t seq = 0;
  std::uint32_t pid = 0;
  char comm[20] = {};
};
}  // namespace

TEST_CASE("ring create accepts powers of two >= 2 only", "[ring]") {
  CHECK_FALSE(SpscRing<int>::create(0));
  CHECK_FALSE(SpscRing<int>::create(1));
  CHECK_FALSE(SpscRing<int>::create(3));
  CHECK_FALSE(SpscRing<int>::create(6));
  CHECK_FALSE(SpscRing<int>::create(1000));
  CHECK_FALSE(SpscRing<int>::create(SIZE_MAX));
  REQUIRE(SpscRing<int>::create(2));
  CHECK(SpscRing<int>::create(2)->capacity() == 2);
  CHECK(SpscRing<int>::create(1024)->capacity() == 1024);
}

TEST_CASE("ring create returns null instead of throwing when the slots cannot be allocated", "[ring]") {
  // A power of two whose slot array cannot exist.
  constexpr std::size_t kHuge = std::size_t{1} << 62;
  CHECK_FALSE(SpscRing<std::uint64_t>::create(kHuge));
  CHECK_FALSE(SpscRing<Record>::create(kHuge));
}

TEST_CASE("ring capacity is exact: full refuses a push, one pop makes room for one", "[ring]") {
  auto ring = SpscRing<int>::create(8);
  REQUIRE(ring);
  CHECK(ring->size() == 0);
  for (int i = 0; i < 8; ++i) REQUIRE(ring->try_push(i));
  CHECK(ring->size() == 8);
  CHECK_FALSE(ring->try_push(99));
  CHECK(ring->size() == 8);
  int out = -1;
  REQUIRE(ring->try_pop(out));
  CHECK(out == 0);
  CHECK(ring->size() == 7);
  CHECK(ring->try_push(8));
  CHECK_FALSE(ring->try_push(9));
  // The refused values never appear.
  for (int expected = 1; expected <= 8; ++expected) {
    REQUIRE(ring->try_pop(out));
    CHECK(out == expected);
  }
  CHECK_FALSE(ring->try_pop(out));
}

TEST_CASE("ring pop on an empty ring returns false and leaves the output alone", "[ring]") {
  auto ring = SpscRing<int>::create(2);
  int out = 42;
  CHECK_FALSE(ring->try_pop(out));
  CHECK(out == 42);
  REQUIRE(ring->try_push(7));
  REQUIRE(ring->try_pop(out));
  CHECK(out == 7);
  out = 42;
  CHECK_FALSE(ring->try_pop(out));
  CHECK(out == 42);
}

TEST_CASE("ring keeps FIFO order through many wrap-arounds", "[ring]") {
  auto ring = SpscRing<int>::create(4);
  int next_in = 0;
  int next_out = 0;
  bool in_order = true;
  for (int round = 0; round < 10000; ++round) {
    while (ring->try_push(next_in)) ++next_in;
    REQUIRE(ring->size() == 4);
    int out = 0;
    for (int k = 0; k < 1 + round % 4 && ring->try_pop(out); ++k) in_order &= out == next_out++;
  }
  int out = 0;
  while (ring->try_pop(out)) in_order &= out == next_out++;
  CHECK(in_order);
  CHECK(next_out == next_in);
  CHECK(next_in > 10000 * 2);  // the indices went round the 4 slots thousands of times
  CHECK(ring->size() == 0);
}

TEST_CASE("ring pop_bulk returns what is there, in order, up to max", "[ring]") {
  auto ring = SpscRing<int>::create(16);
  for (int i = 0; i < 10; ++i) REQUIRE(ring->try_push(i));
  std::array<int, 16> out{};
  CHECK(ring->pop_bulk(out.data(), 4) == 4);
  CHECK(out[0] == 0);
  CHECK(out[3] == 3);
  CHECK(ring->size() == 6);
  CHECK(ring->pop_bulk(out.data(), 16) == 6);
  CHECK(out[0] == 4);
  CHECK(out[5] == 9);
  CHECK(ring->pop_bulk(out.data(), 16) == 0);
  CHECK(ring->size() == 0);
}

TEST_CASE("ring pop_bulk with max 0 pops nothing and does not touch the output", "[ring]") {
  auto ring = SpscRing<int>::create(4);
  REQUIRE(ring->try_push(1));
  CHECK(ring->pop_bulk(nullptr, 0) == 0);
  CHECK(ring->size() == 1);
}

TEST_CASE("ring pop_bulk copies a batch that wraps past the end of the slot array", "[ring]") {
  auto ring = SpscRing<Record>::create(8);
  std::array<Record, 8> out{};
  std::uint64_t next_in = 0;
  std::uint64_t next_out = 0;
  for (int round = 0; round < 100; ++round) {
    // Fill completely, then drain in one call: the batch starts at a different slot each round.
    while (ring->try_push(Record{next_in, static_cast<std::uint32_t>(next_in * 3), {'p'}})) ++next_in;
    REQUIRE(ring->pop_bulk(out.data(), out.size()) == 8);
    for (const Record& r : out) {
      REQUIRE(r.seq == next_out);
      REQUIRE(r.pid == next_out * 3);
      REQUIRE(r.comm[0] == 'p');
      ++next_out;
    }
    // Leave round % 8 values behind so the next batch straddles the end of the array.
    for (int k = 0; k < round % 8; ++k) REQUIRE(ring->try_push(Record{next_in++, 0, {}}));
    const std::size_t left = ring->pop_bulk(out.data(), out.size());
    REQUIRE(left == static_cast<std::size_t>(round % 8));
    next_out += left;
  }
  CHECK(next_out == next_in);
}

TEST_CASE("ring high watermark tracks the fullest fill level and never falls", "[ring]") {
  auto ring = SpscRing<int>::create(16);
  CHECK(ring->high_watermark() == 0);
  int out = 0;
  for (int i = 0; i < 5; ++i) REQUIRE(ring->try_push(i));
  CHECK(ring->high_watermark() == 5);
  while (ring->try_pop(out)) {
  }
  CHECK(ring->high_watermark() == 5);
  for (int i = 0; i < 3; ++i) REQUIRE(ring->try_push(i));
  CHECK(ring->high_watermark() == 5);
  for (int i = 0; i < 13; ++i) REQUIRE(ring->try_push(i));
  CHECK(ring->high_watermark() == 16);
  CHECK_FALSE(ring->try_push(0));
  CHECK(ring->high_watermark() == 16);
}

TEST_CASE("ring high watermark stays low when the consumer keeps up, however many pushes", "[ring]") {
  // The producer's cached copy of the read index goes stale; the watermark must not follow it.
  auto ring = SpscRing<int>::create(1024);
  int out = 0;
  for (int i = 0; i < 100000; ++i) {
    REQUIRE(ring->try_push(i));
    if (i % 2 == 1) {
      REQUIRE(ring->try_pop(out));
      REQUIRE(ring->try_pop(out));
    }
  }
  CHECK(ring->high_watermark() == 2);
}

TEST_CASE("ring wait_for_data returns at once when values are waiting", "[ring]") {
  auto ring = SpscRing<int>::create(4);
  REQUIRE(ring->try_push(1));
  const auto start = std::chrono::steady_clock::now();
  ring->wait_for_data(std::chrono::seconds(30));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
}

TEST_CASE("ring wait_for_data on an empty ring returns after the timeout", "[ring]") {
  auto ring = SpscRing<int>::create(4);
  const auto start = std::chrono::steady_clock::now();
  ring->wait_for_data(std::chrono::milliseconds(20));
  const auto waited = std::chrono::steady_clock::now() - start;
  CHECK(waited < std::chrono::seconds(5));
  ring->notify_consumer();  // nobody waits: a no-op
  CHECK(ring->size() == 0);
}
