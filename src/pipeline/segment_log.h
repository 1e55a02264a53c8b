// SegmentLog: one signal's records in one sink's queue, on disk: append-only segment files, each
// record checksummed, and a cursor saying how far the sink has stored them.
//
// Files, in the log's directory (e.g. <dataDir>/queue/clickhouse/logs/):
//   <seq>.seg  segments, 16 hex digits, appended to until they pass segmentBytes. A record is a
//              16-byte header (magic "SHQ1", payload length, rows, CRC-32C of length, rows and
//              payload) and its payload (record_codec.h).
//   cursor     two 64-byte slots, written in turn, each with its own CRC: the position up to
//              which the sink has stored the records ("committed"), and the end of the range the
//              sink was given last ("in flight"; equal to committed when none is). A torn
//              write of one slot leaves the other.
//   id         16 random hex digits made when the directory is; part of every range id, so that
//              a queue made anew never reuses the ids of an earlier one.
//
// Writers (Pipeline) append, then sync() (fdatasync of every segment written since the last
// sync), then publish() what is synced: only published records are read. The reader (the sink's
// worker) reads published records in order, hands them to its sink, and commit()s their end once
// the sink has stored them; segments wholly before the committed position are then deleted.
//
// On open, every segment past the committed position is read and checked: a record that is cut
// short or whose checksum does not match ends its segment, which is truncated there (counted in
// Recovery). A process killed (or a machine that lost power, with fsync on) can only leave such a
// tail after the last synced record, and no record after it was acknowledged.
//
// Thread-safety: append(), sync(), publish(), dropOldest() and the accessors may be called from
// any thread; read(), beginRange() and commit() from one reader thread at a time.
#pragma once

#include <sys/uio.h>

#include <compare>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"
#include "pipeline/request_ledger.h"

namespace stackhouse::pipeline {

struct QueuePosition {
  uint64_t segment = 0;
  uint64_t offset = 0;
  auto operator<=>(const QueuePosition&) const = default;
};

struct SegmentLogOptions {
  std::string dir;
  uint64_t segmentBytes = 64ull << 20;
  bool syncCursor = true;  // fdatasync the cursor after each write (fsync: always)
};

// What open() found.
struct Recovery {
  uint64_t records = 0;          // records not yet committed
  uint64_t rows = 0;             // their rows
  uint64_t tornBytes = 0;        // bytes cut off the ends of segments (bad or cut-short records)
  uint64_t tornSegments = 0;     // segments that were cut
  std::vector<RequestKey> keys;  // the keys of the records not yet committed
};

// A record read back.
struct QueueRecord {
  QueuePosition start;
  QueuePosition end;
  uint32_t rows = 0;
  std::vector<uint8_t> payload;
};

class SegmentLog {
 public:
  static Result<std::unique_ptr<SegmentLog>> open(const SegmentLogOptions& options,
                                                  Recovery* recovery);

  // Counts the records of the log at `dir` not yet committed, reading without creating,
  // truncating or changing anything (for commands that only read a data directory).
  struct Summary {
    uint64_t records = 0;
    uint64_t rows = 0;
  };
  static Result<Summary> peek(const std::string& dir);

  ~SegmentLog();
  SegmentLog(const SegmentLog&) = delete;
  SegmentLog& operator=(const SegmentLog&) = delete;

  // Appends one record (not synced, not yet readable). `payload` holds `payloadBytes` in all.
  // Returns the record's end. An error (the disk full, ...) leaves the log as it was.
  Result<QueuePosition> append(std::span<const iovec> payload, size_t payloadBytes, uint32_t rows);
  // fdatasync of every segment appended to since the last sync (`durable` false: none, but the
  // descriptors of sealed segments are closed all the same).
  Status sync(bool durable = true);
  // Makes the records up to `end` (an append()'s result) readable.
  void publish(QueuePosition end);

  // Reader: the records from `from` on, in order, up to the published end, until `maxRows`
  // rows or `maxBytes` payload bytes are read (at least one record when any is there), or
  // until `stopAt` when it is not zero.
  Status read(QueuePosition from, size_t maxRows, size_t maxBytes, QueuePosition stopAt,
              std::vector<QueueRecord>& out);
  // Reader: records that the range ending at `end` is being sent (see cursor above).
  Status beginRange(QueuePosition end);
  // Reader: the sink stored everything before `end`. Durable when syncCursor. Deletes the
  // segments before it; returns the bytes freed.
  Result<uint64_t> commit(QueuePosition end);
  // Reader: where the reader has read up to (dropOldest keeps what is at or before it).
  void setReadPosition(QueuePosition p);

  // Deletes the oldest segment that holds no record read yet (sealing the one being appended to
  // if that is the only one). Returns the records, rows and bytes dropped, all zero when nothing
  // could be dropped.
  struct Dropped {
    uint64_t records = 0;
    uint64_t rows = 0;
    uint64_t bytes = 0;
  };
  Dropped dropOldest();

  QueuePosition committed() const;
  QueuePosition inFlightEnd() const;  // == committed() when no range was in flight at open
  QueuePosition published() const;
  uint64_t bytesOnDisk() const;
  const std::string& id() const { return id_; }
  // Creation time (steady clock, ns) of the oldest droppable segment; INT64_MAX when none.
  int64_t oldestDroppableNanos() const;

 private:
  struct Segment {
    uint64_t bytes = 0;
    uint64_t records = 0;
    uint64_t rows = 0;
    int64_t createdNanos = 0;
    bool sealed = false;
  };
  explicit SegmentLog(const SegmentLogOptions& options) : options_(options) {}
  Status recover(Recovery* recovery);
  Status openActive(uint64_t seq);  // requires mu_
  Status writeCursor(QueuePosition committed, QueuePosition inFlight);
  std::string segmentPath(uint64_t seq) const;
  bool droppable(uint64_t seq, const Segment& s) const;  // requires mu_

  const SegmentLogOptions options_;
  std::string id_;

  mutable std::mutex mu_;
  std::map<uint64_t, Segment> segments_;  // guarded by mu_
  uint64_t activeSeq_ = 0;                // guarded by mu_
  int activeFd_ = -1;                     // guarded by mu_
  std::vector<int> unsyncedFds_;          // guarded by mu_: sealed segments not yet synced
  bool dirty_ = false;                    // guarded by mu_
  uint64_t bytesOnDisk_ = 0;              // guarded by mu_
  QueuePosition published_;               // guarded by mu_
  QueuePosition readPosition_;            // guarded by mu_
  QueuePosition committed_;               // guarded by mu_; written by the reader only
  QueuePosition inFlight_;                // guarded by mu_

  // Reader thread only.
  int cursorFd_ = -1;
  uint64_t cursorVersion_ = 0;
  int readFd_ = -1;
  uint64_t readSeq_ = 0;
};

}  // namespace stackhouse::pipeline
