// CRC-32C (Castagnoli), the checksum of every record in a sink queue (segment_log.h).
#pragma once

#include <cstddef>
#include <cstdint>

namespace stackhouse::pipeline {

// Extends `crc` (0 to start) over `size` bytes at `data`. Uses the CPU's crc32 instruction when
// it has one (SSE 4.2), a table otherwise; both give the same value.
uint32_t crc32c(uint32_t crc, const void* data, size_t size);

}  // namespace stackhouse::pipeline
