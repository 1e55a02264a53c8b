// Random tokens, token digests and password hashes for the UI's users, sessions and API keys, all
// from libsodium. Thread-safe once initCrypto() has returned true (call it before any other).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.h"

namespace stackhouse::web::auth {

// sodium_init(); false when the library cannot run (no entropy source).
[[nodiscard]] bool initCrypto();

// `bytes` random bytes (randombytes_buf) as unpadded base64url: 32 bytes -> 43 characters.
std::string randomToken(size_t bytes = 32);

// A password for a person to type once: 20 characters from an unambiguous alphabet (~110 bits).
std::string randomPassword();

// The digest stored in place of a session token or API key (BLAKE2b-256, hex). A token has >= 128
// random bits, so an unsalted fast digest is enough: nobody can guess a preimage, and a stolen
// database does not hand out working tokens.
std::string tokenDigest(std::string_view token);

// An argon2id (crypto_pwhash_str, ARGON2ID13) hash at the interactive limits: "$argon2id$v=19$...".
// Takes ~0.1 s and 64 MiB; fails only when memory cannot be had.
Result<std::string> hashPassword(std::string_view password);

// True when `password` matches `hash` (any argon2 hash crypto_pwhash_str made).
bool verifyPassword(std::string_view hash, std::string_view password);

// Equality whose duration depends on the lengths only, not on where the bytes differ.
bool constantTimeEqual(std::string_view a, std::string_view b);

}  // namespace stackhouse::web::auth
