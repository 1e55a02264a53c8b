// The payload of one queue record: one request's batch, as it left the stages (redacted), plus
// the request's key (so that a restart can tell the ledger which requests its queues hold) and
// its source.
//
// Layout (little-endian, as written by this machine):
//   u64 key.hi, u64 key.lo, u32 source, u32 buffer count,
//   then per buffer (telemetry::visitBatchBuffers order): u64 length, bytes.
// The reader fills a batch of the same type in the same order and checks that it is well formed
// (telemetry::batchConsistent) before anything reads it as Arrow data.
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "common/status.h"
#include "pipeline/request_ledger.h"
#include "telemetry/batch_codec.h"
#include "telemetry/source.h"

namespace stackhouse::pipeline {

// The iovecs of a record's payload, pointing into the batch (no copy) and into `scratch` (the
// fixed fields and lengths; sized up front so the pointers stay valid). Returns the payload size.
template <typename B>
size_t encodeRecord(const B& batch, const RequestKey& key, telemetry::Source source,
                    std::vector<uint64_t>& scratch, std::vector<iovec>& iov) {
  size_t buffers = 0;
  telemetry::visitBatchBuffers(batch, [&](const telemetry::Buffer&) { ++buffers; });
  scratch.clear();
  scratch.reserve(3 + buffers);
  scratch.push_back(key.hi);
  scratch.push_back(key.lo);
  scratch.push_back(static_cast<uint64_t>(source) | (static_cast<uint64_t>(buffers) << 32));
  iov.push_back({scratch.data(), 3 * sizeof(uint64_t)});
  size_t total = 3 * sizeof(uint64_t);
  telemetry::visitBatchBuffers(batch, [&](const telemetry::Buffer& b) {
    scratch.push_back(b.size());
    iov.push_back({&scratch.back(), sizeof(uint64_t)});
    total += sizeof(uint64_t);
    if (b.size() > 0) {
      iov.push_back({const_cast<uint8_t*>(b.data()), b.size()});
      total += b.size();
    }
  });
  return total;
}

// The key stored in a record's payload (its first 16 bytes); empty if the payload is too short.
inline RequestKey recordKey(std::span<const uint8_t> payload) {
  RequestKey key;
  if (payload.size() < 16) return key;
  std::memcpy(&key.hi, payload.data(), 8);
  std::memcpy(&key.lo, payload.data() + 8, 8);
  return key;
}

// Fills `batch` (cleared first) from a record's payload. An error names what is wrong; the
// batch is then unusable.
template <typename B>
Status decodeRecord(std::span<const uint8_t> payload, B& batch) {
  const uint8_t* p = payload.data();
  const uint8_t* end = p + payload.size();
  auto get = [&](uint64_t& v) {
    if (end - p < 8) return false;
    std::memcpy(&v, p, 8);
    p += 8;
    return true;
  };
  uint64_t hi, lo, sourceAndCount;
  if (!get(hi) || !get(lo) || !get(sourceAndCount)) {
    return invalidArgument("a queue record's header is cut short");
  }
  const uint64_t expected = sourceAndCount >> 32;
  uint64_t seen = 0;
  bool ok = true;
  telemetry::visitBatchBuffers(batch, [&](telemetry::Buffer& buffer) {
    buffer.clear();
    if (!ok) return;
    uint64_t length = 0;
    ok = ++seen <= expected && get(length) && static_cast<uint64_t>(end - p) >= length;
    if (ok) {
      buffer.append(p, length);
      p += length;
    }
  });
  if (!ok || seen != expected || p != end) {
    return invalidArgument("a queue record does not hold the buffers of its signal");
  }
  if (!telemetry::batchConsistent(batch)) {
    return invalidArgument("a queue record's columns do not agree");
  }
  return Status::ok();
}

}  // namespace stackhouse::pipeline
