// Cutting a group of rows into requests that fit a vendor's limits, and resuming a retried group
// where the last call stopped.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.h"
#include "pipeline/sink.h"

namespace stackhouse::sinks {

// How far the sink got with the group it was last given. Vendor intakes have no deduplication
// token, so a group that failed half-way is resumed, not resent: a kRetry call for the same id
// starts after the rows already accepted. The cut points depend only on the rows and the limits,
// so a retry cuts the same requests. (A replay after a restart starts from 0: those rows may
// arrive twice. kIsolate calls send all their rows.)
class DeliveryProgress {
 public:
  // The first row to send for this call.
  size_t start(std::string_view batchId, pipeline::Attempt attempt) {
    if (attempt != pipeline::Attempt::kRetry || batchId != batchId_) {
      batchId_.assign(batchId);
      done_ = 0;
    }
    base_ = 0;
    return done_;
  }
  // For a sink that sends a group in parts (one per data source): the rows counted by the next
  // deliveredUpTo calls start at `base` in the group.
  void setBase(size_t base) { base_ = base; }
  // Rows [.., base + row) of the group are delivered.
  void deliveredUpTo(size_t row) { done_ = base_ + row; }

 private:
  std::string batchId_;
  size_t done_ = 0;
  size_t base_ = 0;
};

// What one request's answer means for the splitting.
struct SendOutcome {
  Status status;
  bool tooLarge = false;  // the server refused the request's size (HTTP 413): send fewer rows
};

// What sendInChunks reports about rows it could not send at all.
struct ChunkStats {
  size_t oversizedRows = 0;  // single rows whose request alone passes the limits: skipped
};

// Sends rows [from, to) as requests of at most `maxRows` rows whose bodies fit in `maxBytes`:
// `encode(begin, end, body)` writes the request for rows [begin, end) into the cleared `body`
// (uncompressed), `send(body, rows)` posts it. A request over the limit, or one the server
// refuses as too large, is halved and encoded again; a single row that still does not fit is
// skipped and counted in `stats` (one row never holds back the others). Stops at the first
// failure; `progress` then records the rows already delivered. No request starts once `sink`'s
// call deadline has passed (kUnavailable; a started one keeps its own timeout: a vendor intake
// cannot deduplicate the retry of a request cut short, see pipeline/sink.h). Returns OK when
// every row was delivered or skipped.
template <typename Encode, typename Send>
Status sendInChunks(const pipeline::Sink& sink, size_t from, size_t to, size_t maxRows,
                    size_t maxBytes, DeliveryProgress& progress, ChunkStats& stats, Encode&& encode,
                    Send&& send) {
  std::string body;
  size_t chunk = std::max<size_t>(1, maxRows);
  size_t pos = from;
  while (pos < to) {
    if (sink.pastDeadline()) return unavailable("the send timeout passed before the request");
    const size_t n = std::min(chunk, to - pos);
    body.clear();
    encode(pos, pos + n, body);
    bool tooLarge = body.size() > maxBytes;
    if (!tooLarge) {
      SendOutcome outcome = send(body, n);
      if (outcome.tooLarge) {
        tooLarge = true;
      } else if (!outcome.status.isOk()) {
        return std::move(outcome.status);
      }
    }
    if (tooLarge) {
      if (n > 1) {
        chunk = n / 2;
        continue;
      }
      ++stats.oversizedRows;
    }
    pos += n;
    progress.deliveredUpTo(pos);
    // Grow back towards the limit after a cut, so one large row does not shrink every request.
    chunk = std::min(std::max<size_t>(1, maxRows), chunk * 2);
  }
  return Status::ok();
}

}  // namespace stackhouse::sinks
