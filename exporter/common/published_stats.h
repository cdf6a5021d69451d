// Publishes a struct of uint64_t counters from the thread that owns it to any reader, without
// locks: each 64-bit word is a relaxed atomic. A reader may see words from two different
// publications (counters are monotonic, so every value it sees is one that existed); that is
// the same guarantee one atomic per field gives, with no field copied by hand.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <bit>
#include <type_traits>

namespace procevents {

template <class Stats>
class PublishedStats {
  static_assert(std::is_trivially_copyable_v<Stats>, "copied word by word");
  static_assert(sizeof(Stats) % sizeof(std::uint64_t) == 0, "a struct of 64-bit counters");
  static constexpr std::size_t kWords = sizeof(Stats) / sizeof(std::uint64_t);

 public:
  /// Called by the owning thread.
  void publish(const Stats& stats) noexcept {
    const auto words = std::bit_cast<std::array<std::uint64_t, kWords>>(stats);
    for (std::size_t i = 0; i < kWords; ++i) words_[i].store(words[i], std::memory_order_relaxed);
  }
  /// Safe from any thread.
  Stats load() const noexcept {
    std::array<std::uint64_t, kWords> words;
    for (std::size_t i = 0; i < kWords; ++i) words[i] = words_[i].load(std::memory_order_relaxed);
    return std::bit_cast<Stats>(words);
  }

 private:
  std::array<std::atomic<std::uint64_t>, kWords> words_{};
};

}  // namespace procevents
