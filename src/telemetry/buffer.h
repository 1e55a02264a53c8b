// Buffer: a growable, 64-byte-aligned byte array, the storage of every column.
//
// Columns append into Buffers that are reused from batch to batch (clear() keeps the capacity), so
// the ingest path allocates only while a buffer grows to its working size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace stackhouse::telemetry {

class Buffer {
 public:
  Buffer() = default;
  ~Buffer();
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  Buffer(Buffer&& other) noexcept;
  Buffer& operator=(Buffer&& other) noexcept;

  uint8_t* data() { return data_; }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  bool empty() const { return size_ == 0; }

  void clear() { size_ = 0; }
  // Shrinks to `n` bytes (n <= size()).
  void truncate(size_t n) { size_ = n; }
  void reserve(size_t n) {
    if (n > capacity_) grow(n);
  }
  void append(const void* p, size_t n) {
    if (size_ + n > capacity_) grow(size_ + n);
    if (n > 0) std::memcpy(data_ + size_, p, n);
    size_ += n;
  }
  template <typename T>
  void appendValue(T v) {
    if (size_ + sizeof(T) > capacity_) grow(size_ + sizeof(T));
    std::memcpy(data_ + size_, &v, sizeof(T));
    size_ += sizeof(T);
  }
  // Grows by `n` uninitialised bytes and returns where they start.
  uint8_t* extend(size_t n) {
    if (size_ + n > capacity_) grow(size_ + n);
    uint8_t* p = data_ + size_;
    size_ += n;
    return p;
  }
  // Releases the memory (clear() keeps it).
  void release();

 private:
  void grow(size_t atLeast);

  uint8_t* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

}  // namespace stackhouse::telemetry
