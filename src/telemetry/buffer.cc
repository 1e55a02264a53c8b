#include "telemetry/buffer.h"

#include <cstdlib>
#include <new>
#include <utility>

namespace stackhouse::telemetry {

namespace {
constexpr size_t kAlignment = 64;  // what the Arrow specification recommends
}

Buffer::~Buffer() { std::free(data_); }

Buffer::Buffer(Buffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      capacity_(std::exchange(other.capacity_, 0)) {}

Buffer& Buffer::operator=(Buffer&& other) noexcept {
  if (this != &other) {
    std::free(data_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    capacity_ = std::exchange(other.capacity_, 0);
  }
  return *this;
}

void Buffer::release() {
  std::free(data_);
  data_ = nullptr;
  size_ = capacity_ = 0;
}

void Buffer::grow(size_t atLeast) {
  size_t cap = capacity_ < 256 ? 256 : capacity_ * 2;
  while (cap < atLeast) cap *= 2;
  cap = (cap + kAlignment - 1) & ~(kAlignment - 1);
  void* p = std::aligned_alloc(kAlignment, cap);
  if (p == nullptr) throw std::bad_alloc();
  if (size_ > 0) std::memcpy(p, data_, size_);
  std::free(data_);
  data_ = static_cast<uint8_t*>(p);
  capacity_ = cap;
}

}  // namespace stackhouse::telemetry
