// PublishedStats: a struct of 64-bit counters handed from one writer to any reader, word by word.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdint>
#include <thread>

#include "common/datagram_batch.h"
#include "common/published_stats.h"

using procevents::PublishedStats;

namespace {

struct Counters {
  std::uint64_t first = 0;
  std::uint64_t many[5] = {};
  std::uint64_t last = 0;
};

}  // namespace

TEST_CASE("PublishedStats returns what was published, every field", "[common]") {
  PublishedStats<Counters> published;
  const Counters zero = published.load();
  CHECK(zero.first == 0);
  CHECK(zero.last == 0);

  Counters counters;
  counters.first = 1;
  for (std::uint64_t i = 0; i < 5; ++i) counters.many[i] = 10 + i;
  counters.last = ~std::uint64_t{0};
  published.publish(counters);
  const Counters back = published.load();
  CHECK(back.first == 1);
  for (std::uint64_t i = 0; i < 5; ++i) CHECK(back.many[i] == 10 + i);
  CHECK(back.last == ~std::uint64_t{0});

  // A derived struct of counters, as the sources publish (DatagramCounters plus their own).
  struct Derived : procevents::DatagramCounters {
    std::uint64_t extra = 0;
  };
  PublishedStats<Derived> derived;
  Derived value;
  value.datagrams = 3;
  value.foreign_datagrams = 4;
  value.extra = 5;
  derived.publish(value);
  CHECK(derived.load().datagrams == 3);
  CHECK(derived.load().foreign_datagrams == 4);
  CHECK(derived.load().extra == 5);
}

TEST_CASE("concurrent publish and load: no word is torn and none goes backwards", "[common]") {
  // Every word holds n in both halves: a torn word would show two different halves.
  constexpr std::uint64_t kRounds = 200000;
  const auto pattern = [](std::uint64_t n) { return (n << 32) | n; };
  PublishedStats<Counters> published;
  std::atomic<bool> done{false};
  std::thread writer([&] {
    Counters counters;
    for (std::uint64_t n = 1; n <= kRounds; ++n) {
      counters.first = pattern(n);
      for (std::uint64_t& word : counters.many) word = pattern(n);
      counters.last = pattern(n);
      published.publish(counters);
    }
    done.store(true, std::memory_order_release);
  });
  std::uint64_t torn = 0, backwards = 0, loads = 0;
  std::uint64_t previous[7] = {};
  while (!done.load(std::memory_order_acquire) || loads == 0) {
    const Counters seen = published.load();
    const std::uint64_t words[7] = {seen.first, seen.many[0], seen.many[1], seen.many[2],
                                    seen.many[3], seen.many[4], seen.last};
    for (int i = 0; i < 7; ++i) {
      torn += (words[i] >> 32) != (words[i] & 0xffffffffu);
      backwards += words[i] < previous[i];
      previous[i] = words[i];
    }
    ++loads;
  }
  writer.join();
  CHECK(torn == 0);
  CHECK(backwards == 0);
  const Counters final_value = published.load();
  CHECK(final_value.first == pattern(kRounds));
  CHECK(final_value.last == pattern(kRounds));
}
