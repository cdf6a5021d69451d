// A fixed array of trivially copyable values, all zero, whose memory the kernel supplies on first
// touch: calloc of a large block maps fresh zero pages without writing them, so a table sized for
// the worst case (200,000 processes, a 64k-slot ring) costs resident memory only where it is used.
// Header-only; the RAII every fixed-capacity table of this project allocates through.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>
#include <type_traits>

namespace procevents {

template <class T>
class ZeroedArray {
  static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>,
                "all-zero bytes must be a valid T, and nothing is destroyed");

 public:
  /// `size` zero values; throws std::bad_alloc when the memory cannot be had.
  explicit ZeroedArray(std::size_t size) : size_(size), data_(allocate(size)) {}

  T& operator[](std::size_t i) noexcept { return data_[i]; }
  const T& operator[](std::size_t i) const noexcept { return data_[i]; }
  T* data() noexcept { return data_.get(); }
  const T* data() const noexcept { return data_.get(); }
  std::size_t size() const noexcept { return size_; }
  T* begin() noexcept { return data_.get(); }
  T* end() noexcept { return data_.get() + size_; }
  const T* begin() const noexcept { return data_.get(); }
  const T* end() const noexcept { return data_.get() + size_; }

 private:
  struct Free {
    void operator()(T* p) const noexcept { std::free(p); }
  };
  static T* allocate(std::size_t size) {
    // calloc creates the (implicit-lifetime) objects; zero bytes are their value.
    void* memory = std::calloc(size == 0 ? 1 : size, sizeof(T));
    if (memory == nullptr) throw std::bad_alloc();
    return static_cast<T*>(memory);
  }

  std::size_t size_;
  std::unique_ptr<T[], Free> data_;
};

}  // namespace procevents
