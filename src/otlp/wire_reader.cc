#include "otlp/wire_reader.h"

namespace stackhouse::otlp::detail {

std::string_view wireTypeName(WireType w) {
  switch (w) {
    case WireType::kVarint: return "0 (varint)";
    case WireType::kI64: return "1 (64-bit)";
    case WireType::kLen: return "2 (length-delimited)";
    case WireType::kStartGroup: return "3 (start group)";
    case WireType::kEndGroup: return "4 (end group)";
    case WireType::kI32: return "5 (32-bit)";
  }
  return "invalid";
}

std::string WireReader::fieldLabel(uint32_t number) const {
  std::string s = "field " + std::to_string(number);
  if (number < kMaxKnownField && info_.fields[number].name != nullptr) {
    s += " (";
    s += info_.fields[number].name;
    s += ')';
  }
  s += " of ";
  s += info_.name;
  return s;
}

bool WireReader::failVarint(const uint8_t* tagAt, const char* what) {
  // p_ is still where the varint starts: tell a varint cut off by the end of the message from
  // one that runs past 10 bytes or 64 bits.
  const uint8_t* q = p_;
  unsigned n = 0;
  while (q < end_ && n < 10 && (*q & 0x80) != 0) {
    ++q;
    ++n;
  }
  const bool truncated = q >= end_ && n < 10;
  std::string m = truncated ? "truncated varint in " : "varint longer than 10 bytes or 64 bits in ";
  m += what;
  m += " at offset " + std::to_string(ctx_.offsetOf(p_)) + " (in " + info_.name;
  if (p_ != tagAt) m += ", after the tag at offset " + std::to_string(ctx_.offsetOf(tagAt));
  m += ")";
  return ctx_.fail(std::move(m));
}

bool WireReader::failFieldNumber(const uint8_t* tagAt, uint64_t number) {
  return ctx_.fail("invalid field number " + std::to_string(number) + " in " + info_.name +
                   " at offset " + std::to_string(ctx_.offsetOf(tagAt)));
}

bool WireReader::failWireType(const uint8_t* tagAt, uint32_t number, WireType got,
                              const FieldInfo& want) {
  std::string m = fieldLabel(number) + " has wire type " + std::string(wireTypeName(got)) +
                  ", expected " + std::string(wireTypeName(want.wire));
  if (want.packable) m += " or 2 (packed)";
  m += ", at offset " + std::to_string(ctx_.offsetOf(tagAt));
  return ctx_.fail(std::move(m));
}

bool WireReader::failFixed(const uint8_t* tagAt, uint32_t number, size_t need) {
  return ctx_.fail(fieldLabel(number) + " needs " + std::to_string(need) + " bytes, " +
                   std::to_string(end_ - p_) + " left, at offset " +
                   std::to_string(ctx_.offsetOf(tagAt)));
}

bool WireReader::failLength(const uint8_t* tagAt, uint32_t number, uint64_t len, uint64_t left) {
  return ctx_.fail(fieldLabel(number) + " has length " + std::to_string(len) +
                   ", past the remaining " + std::to_string(left) + " bytes, at offset " +
                   std::to_string(ctx_.offsetOf(tagAt)));
}

bool WireReader::failGroupOrInvalid(const uint8_t* tagAt, uint32_t number, WireType wire) {
  if (wire == WireType::kStartGroup || wire == WireType::kEndGroup) {
    return ctx_.fail(fieldLabel(number) +
                     " uses the group wire type, which OTLP does not use, at offset " +
                     std::to_string(ctx_.offsetOf(tagAt)));
  }
  return ctx_.fail(fieldLabel(number) + " has the invalid wire type " +
                   std::to_string(static_cast<int>(wire)) + " at offset " +
                   std::to_string(ctx_.offsetOf(tagAt)));
}

}  // namespace stackhouse::otlp::detail
