// gzip for request bodies: the encoding every vendor intake documents (Datadog logs and series,
// Tinybird events, OTLP/HTTP).
#pragma once

#include <string>
#include <string_view>

namespace stackhouse::sinks {

// `in` as one gzip member (RFC 1952), at zlib's default level (6). Replaces `out`'s contents.
void gzipCompress(std::string_view in, std::string& out);

}  // namespace stackhouse::sinks
