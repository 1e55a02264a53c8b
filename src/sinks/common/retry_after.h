// Reading an HTTP answer's Retry-After (RFC 9110 section 10.2.3).
#pragma once

#include <chrono>
#include <string_view>

namespace stackhouse::sinks {

// The delay a Retry-After value asks for: delay-seconds ("120") or an HTTP-date
// ("Wed, 21 Oct 2026 07:28:00 GMT", measured from `now`). Zero when absent, malformed or in the
// past; capped at `cap` (a server cannot park a sink for days).
std::chrono::milliseconds parseRetryAfter(
    std::string_view value, std::chrono::system_clock::time_point now,
    std::chrono::milliseconds cap = std::chrono::milliseconds(15 * 60 * 1000));

}  // namespace stackhouse::sinks
