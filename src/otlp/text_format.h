// Text renderings shared by the protobuf and JSON decoders: ids as hex, bytes as base64, numbers
// and nested values the way the Collector's pdata Value.AsString does (Go's strconv and
// encoding/json), so our rows match the ClickHouse exporter's byte for byte where it matters.
//
// Everything appends into a column's Buffer; nothing allocates beyond the buffer's growth.
// Internal to stackhouse_otlp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "telemetry/buffer.h"

namespace stackhouse::otlp::detail {

using telemetry::Buffer;

inline void appendText(Buffer& out, std::string_view s) { out.append(s.data(), s.size()); }

// Lowercase hex of `n` bytes.
void appendHex(Buffer& out, const uint8_t* bytes, size_t n);

// Decodes case-insensitive hex into `out` (capacity `cap`). False when `hex` has an odd length,
// a non-hex character, or decodes to more than `cap` bytes; `*n` is then meaningless.
bool decodeHex(std::string_view hex, uint8_t* out, size_t cap, size_t* n);

// Standard base64 with padding (Go's base64.StdEncoding).
void appendBase64(Buffer& out, const uint8_t* bytes, size_t n);

// Decodes base64 in the standard or the URL-safe alphabet, padded or not (what proto3 JSON
// accepts for bytes), replacing `out`. False on any other character or an impossible length.
bool decodeBase64(std::string_view text, std::string& out);

void appendInt64(Buffer& out, int64_t v);
void appendUint64(Buffer& out, uint64_t v);

// A finite double as Go's encoding/json writes it (ES6 number to string): the shortest digits that
// round-trip, in plain notation for 1e-6 <= |v| < 1e21 and exponent notation ("1e+21", "1e-7")
// outside. Callers handle NaN and infinities.
void appendEs6Double(Buffer& out, double v);

// A double attribute value as text: appendEs6Double for finite values; NaN, infinities as "NaN",
// "+Inf", "-Inf" (strconv's 'g' spelling; pdata prefixes them with an error text, which we drop).
void appendDoubleAsString(Buffer& out, double v);

// A double inside a JSON rendering: appendEs6Double, or the JSON strings "NaN", "Infinity",
// "-Infinity" (the OTLP/JSON spelling; Go's json.Marshal would fail the whole value).
void appendDoubleAsJson(Buffer& out, double v);

// Appends `s`, replacing every byte that is not part of well-formed UTF-8 with U+FFFD. Returns
// how many bytes were replaced.
size_t appendSanitized(Buffer& out, std::string_view s);

// Appends `s` as a JSON string literal the way Go's encoding/json does (quotes included): quote,
// backslash, \b \f \n \r \t escaped by name, other control bytes and < > & as \u00XX, U+2028 and
// U+2029 escaped, and every ill-formed UTF-8 byte as \ufffd. Returns how many bytes were replaced.
size_t appendGoJsonString(Buffer& out, std::string_view s);

}  // namespace stackhouse::otlp::detail
