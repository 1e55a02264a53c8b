// Request body compression for sinks (gzip and zstd), and the matching decompression with a hard
// output limit (for servers and tests that read what a sink sent).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace stackhouse::sinks::http {

enum class Compression : unsigned char { kNone, kGzip, kZstd };

// "none", "gzip", "zstd" (the config values and the Content-Encoding tokens), or nullopt.
std::optional<Compression> parseCompression(std::string_view name);
// The Content-Encoding token: "gzip", "zstd"; empty for kNone.
std::string_view compressionName(Compression compression);

// Compresses `in` into `out` (replacing its contents). `level` 0 picks the format's default
// (gzip 6; zstd 3). Errors: kInternal when the library fails (out of memory).
Status compress(Compression compression, std::string_view in, std::string& out, int level = 0);

// Decompresses `in` into `out` (replacing its contents); concatenated gzip members or zstd frames
// are all read. Errors: kResourceExhausted past `maxBytes` of output (checked as it inflates, so a
// small bomb never allocates more), kInvalidArgument when the data is not valid in that format.
Status decompress(Compression compression, std::string_view in, uint64_t maxBytes,
                  std::string& out);

}  // namespace stackhouse::sinks::http
