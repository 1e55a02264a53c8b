// The payload of one queue record: one request's batch, as it left the stages (redacted), plus
// the request's key (so that a restart can tell the ledger which requests its queues hold) and
// its source.
//
// Layout (little-endian, as written by this machine):
//   u64 key.hi, u64 key.lo, u32 source | kRecordColumns, u32 column count,
//   then per column (telemetry::visitBatchBuffers order of columns, MetricBatch's five kinds in
//   turn), a u64 tag:
//     kPlainColumn: its buffers as they are, each a u64 length and the bytes;
//     else the column's rows in runs of equal values (string and map columns): the tag is the
//       number of runs, then each run's length (u32), then the runs' values as a column of their
//       own (its buffers, each a u64 length and the bytes).
// A string or map column is written in runs when that at least halves its rows: a batch's
// resource and scope columns, and a scrape's metric names, repeat a value row after row (a
// node-exporter scrape: 361 bytes a point in full, 146 in runs; prometheus_parse_bench). The rest
// point into the batch's own buffers (no copy).
//
// Records written before the runs (no kRecordColumns in the source word): u32 source, u32 buffer
// count, then every buffer of the batch, each a u64 length and the bytes. Both are read.
//
// The reader fills a batch of the same type in the same order and checks that it is well formed
// (telemetry::batchConsistent) before anything reads it as Arrow data.
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <cstring>
#include <span>
#include <type_traits>
#include <vector>

#include "common/status.h"
#include "pipeline/request_ledger.h"
#include "telemetry/batch_codec.h"
#include "telemetry/source.h"

namespace stackhouse::pipeline {

// In the source word: the record is written column by column (above).
inline constexpr uint32_t kRecordColumns = 0x8000'0000u;
// A column's tag: its buffers as they are.
inline constexpr uint64_t kPlainColumn = ~uint64_t{0};

// Calls f(column) for every column of `batch` in the record's order (a MetricBatch's five kinds in
// turn); const or not, as the batch is.
template <typename B, typename F>
void forEachRecordColumn(B& batch, F&& f) {
  if constexpr (std::is_same_v<std::remove_const_t<B>, telemetry::MetricBatch>) {
    batch.forEachKind([&f](auto& kind) { forEachRecordColumn(kind, f); });
  } else {
    batch.forEachColumn([&f](auto, auto& column) { f(column); });
  }
}

// Builds a record's payload as iovecs that point into the batch and into the encoder's own
// storage (the header, lengths and run-encoded columns). Reused from record to record; the
// iovecs stay valid until the next encode() or the encoder's end.
class RecordEncoder {
 public:
  // Returns the payload size; the payload is iov().
  template <typename B>
  size_t encode(const B& batch, const RequestKey& key, telemetry::Source source) {
    begin(key, source);
    uint32_t columns = 0;
    forEachRecordColumn(batch, [&](const auto& column) {
      ++columns;
      add(column);
    });
    return finish(columns);
  }
  std::span<const iovec> iov() const { return iov_; }

 private:
  void begin(const RequestKey& key, telemetry::Source source);
  size_t finish(uint32_t columns);
  void add(const telemetry::StringColumn& column);
  void add(const telemetry::MapColumn& column);
  template <typename C>
  void add(const C& column) {
    addPlain(column);
  }
  // The column's buffers as they are.
  template <typename C>
  void addPlain(const C& column) {
    putU64(kPlainColumn);
    const_cast<C&>(column).visitBuffers([this](const telemetry::Buffer& b) { plain(b); });
  }
  // The tag and the lengths of the runs found (lengths_).
  void putRuns();
  // A u64 length and the buffer's bytes, in place.
  void plain(const telemetry::Buffer& b);
  // The buffers of a column of the encoder's own (the runs' values), copied: it is reused.
  template <typename C>
  void copied(C& column) {
    column.visitBuffers([this](const telemetry::Buffer& b) {
      putU64(b.size());
      owned_.append(b.data(), b.size());
    });
  }
  void putU64(uint64_t v) { owned_.appendValue(v); }
  // A piece of the payload: bytes of owned_ from `offset`, or `length` bytes at `at` (in place).
  struct Piece {
    const uint8_t* at = nullptr;
    size_t offset = 0;
    size_t length = 0;
  };
  void cut();  // ends the owned piece being written

  telemetry::Source source_{};
  telemetry::Buffer owned_;
  size_t ownedCut_ = 0;
  std::vector<Piece> pieces_;
  std::vector<iovec> iov_;
  std::vector<uint32_t> lengths_;  // the runs of the column being written
  telemetry::StringColumn headStrings_;
  telemetry::MapColumn headMaps_;
};

// The key stored in a record's payload (its first 16 bytes); empty if the payload is too short.
inline RequestKey recordKey(std::span<const uint8_t> payload) {
  RequestKey key;
  if (payload.size() < 16) return key;
  std::memcpy(&key.hi, payload.data(), 8);
  std::memcpy(&key.lo, payload.data() + 8, 8);
  return key;
}

// Reads a record's payload in order; every read is bounded by its end.
class RecordReader {
 public:
  // `maxRows`: the rows the record says it holds (its header in the segment); no column may
  // expand to more.
  RecordReader(std::span<const uint8_t> payload, uint64_t maxRows)
      : p_(payload.data()), end_(payload.data() + payload.size()), maxRows_(maxRows) {}
  bool u64(uint64_t& v) {
    if (end_ - p_ < 8) return false;
    std::memcpy(&v, p_, 8);
    p_ += 8;
    return true;
  }
  // A u64 length and that many bytes into `buffer` (cleared first).
  bool buffer(telemetry::Buffer& buffer);
  bool atEnd() const { return p_ == end_; }
  // A column written in runs (tag: its run count), expanded into `column`.
  bool runs(uint64_t count, telemetry::StringColumn& column);
  bool runs(uint64_t count, telemetry::MapColumn& column);
  template <typename C>
  bool runs(uint64_t, C&) {
    return false;  // only string and map columns are written in runs
  }

 private:
  bool lengths(uint64_t count);
  // The lengths of `count` runs and the column of their values (heads), checked.
  template <typename C>
  bool heads(uint64_t count, C& heads) {
    if (!lengths(count)) return false;
    bool ok = true;
    heads.visitBuffers([&](telemetry::Buffer& b) { ok = ok && buffer(b); });
    return ok && heads.consistent() && heads.size() == count;
  }
  const uint8_t* p_;
  const uint8_t* end_;
  uint64_t maxRows_;
  std::vector<uint32_t> lengths_;
  telemetry::StringColumn headStrings_;
  telemetry::MapColumn headMaps_;
};

// Fills `batch` (cleared first) from a record's payload, which holds `rows` rows (the record's
// header in its segment). An error names what is wrong; the batch is then unusable.
template <typename B>
Status decodeRecord(std::span<const uint8_t> payload, uint64_t rows, B& batch) {
  RecordReader in(payload, rows);
  uint64_t hi, lo, sourceAndCount;
  if (!in.u64(hi) || !in.u64(lo) || !in.u64(sourceAndCount)) {
    return invalidArgument("a queue record's header is cut short");
  }
  const uint64_t expected = sourceAndCount >> 32;
  uint64_t seen = 0;
  bool ok = true;
  if ((sourceAndCount & kRecordColumns) == 0) {
    // Written before the runs: every buffer in turn.
    telemetry::visitBatchBuffers(batch, [&](telemetry::Buffer& buffer) {
      buffer.clear();
      ok = ok && ++seen <= expected && in.buffer(buffer);
    });
  } else {
    auto column = [&](auto& c) {
      c.clear();
      uint64_t tag = 0;
      if (!ok || !(ok = ++seen <= expected && in.u64(tag))) return;
      if (tag == kPlainColumn) {
        c.visitBuffers([&](telemetry::Buffer& buffer) { ok = ok && in.buffer(buffer); });
      } else {
        ok = in.runs(tag, c);
      }
    };
    forEachRecordColumn(batch, column);
  }
  if (!ok || seen != expected || !in.atEnd()) {
    return invalidArgument("a queue record does not hold the columns of its signal");
  }
  if (!telemetry::batchConsistent(batch)) {
    return invalidArgument("a queue record's columns do not agree");
  }
  return Status::ok();
}

}  // namespace stackhouse::pipeline
