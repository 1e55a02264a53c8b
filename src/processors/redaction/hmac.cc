#define OPENSSL_SUPPRESS_DEPRECATED  // SHA256_CTX: copyable states, no allocation per hash
#include "processors/redaction/hmac.h"

#include <openssl/sha.h>

#include <cstring>

namespace stackhouse::redaction {

static_assert(sizeof(SHA256_CTX) <= 128, "SHA256_CTX does not fit the opaque storage");

HmacSha256::HmacSha256(std::string_view key) {
  uint8_t block[64] = {};
  if (key.size() > sizeof block) {
    SHA256(reinterpret_cast<const uint8_t*>(key.data()), key.size(), block);
  } else {
    std::memcpy(block, key.data(), key.size());
  }
  uint8_t pad[64];
  SHA256_CTX ctx;
  for (size_t i = 0; i < 64; ++i) pad[i] = block[i] ^ 0x36;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, pad, sizeof pad);
  std::memcpy(inner_.data(), &ctx, sizeof ctx);
  for (size_t i = 0; i < 64; ++i) pad[i] = block[i] ^ 0x5c;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, pad, sizeof pad);
  std::memcpy(outer_.data(), &ctx, sizeof ctx);
}

std::array<uint8_t, 32> HmacSha256::digest(std::string_view message) const {
  SHA256_CTX ctx;
  uint8_t innerDigest[32];
  std::memcpy(&ctx, inner_.data(), sizeof ctx);
  SHA256_Update(&ctx, message.data(), message.size());
  SHA256_Final(innerDigest, &ctx);
  std::memcpy(&ctx, outer_.data(), sizeof ctx);
  SHA256_Update(&ctx, innerDigest, sizeof innerDigest);
  std::array<uint8_t, 32> out;
  SHA256_Final(out.data(), &ctx);
  return out;
}

void HmacSha256::hex(std::string_view message, char* out, size_t digits) const {
  static constexpr char kHex[] = "0123456789abcdef";
  const auto d = digest(message);
  for (size_t i = 0; i < digits && i < 64; ++i) {
    const uint8_t byte = d[i / 2];
    out[i] = kHex[(i % 2 == 0) ? byte >> 4 : byte & 0xf];
  }
}

}  // namespace stackhouse::redaction
