// Durations and byte sizes as operators write them in configuration.
//
// Durations use Go's time.ParseDuration syntax, as the OpenTelemetry Collector does: a sequence
// of decimal numbers, each with an optional fraction and a unit, such as 72h, 1h30m, 200ms or
// 1.5s. Units are ns, us (or µs), ms, s, m and h; there is no day unit. "0" alone needs no unit.
//
// Sizes use Kubernetes quantity syntax, as Helm values do: a decimal number with an optional
// binary suffix (Ki Mi Gi Ti Pi Ei, powers of 1024), decimal suffix (k M G T P E, powers of 1000)
// or exponent (1e9), such as 50Gi, 512Mi, 1G or 100. The result must be a whole number of bytes.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace stackhouse::config {

inline constexpr uint64_t kKiB = uint64_t{1} << 10;
inline constexpr uint64_t kMiB = uint64_t{1} << 20;
inline constexpr uint64_t kGiB = uint64_t{1} << 30;

// On failure the status message quotes the text and names what was expected, e.g.
// `"3 days" is not a duration such as 72h (there is no day unit: write 72h for 3 days)`.
// Negative durations parse (Go syntax allows them); callers check their own ranges.
Result<std::chrono::nanoseconds> parseDuration(std::string_view text);

// The shortest text parseDuration reads back as the same value: 72h, 1h30m, 200ms, 1.5s, 0s.
std::string formatDuration(std::chrono::nanoseconds value);

// On failure the status message quotes the text, e.g. `"1GB" is not a size such as 64Mi or 1G
// (unknown suffix "GB"; ...)`. Negative, fractional-byte and over-64-bit sizes are errors.
Result<uint64_t> parseByteSize(std::string_view text);

// The shortest exact quantity: 64Mi, 1G, 1000. parseByteSize reads it back as the same value.
std::string formatByteSize(uint64_t bytes);

}  // namespace stackhouse::config
