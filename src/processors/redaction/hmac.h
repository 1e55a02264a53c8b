// HmacSha256: keyed hashing for the hash action and file names.
//
// The key's inner and outer SHA-256 states are computed once; each hash copies them (plain
// structs), so hashing allocates nothing and is safe from any number of threads.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace stackhouse::redaction {

class HmacSha256 {
 public:
  explicit HmacSha256(std::string_view key);

  std::array<uint8_t, 32> digest(std::string_view message) const;
  // The first `digits` (<= 64) lowercase hex digits of the digest, written to out.
  void hex(std::string_view message, char* out, size_t digits) const;

 private:
  // SHA256_CTX, kept opaque here so that users of this header need no OpenSSL headers.
  alignas(8) std::array<uint8_t, 128> inner_{};
  alignas(8) std::array<uint8_t, 128> outer_{};
};

}  // namespace stackhouse::redaction
