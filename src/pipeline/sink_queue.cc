#include "pipeline/sink_queue.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#include "common/log.h"

namespace stackhouse::pipeline {

namespace {
constexpr uint64_t kRecordHeaderBytes = 16;
}

DroppedCounters droppedCounters(const std::string& sink, std::string_view signal,
                                std::string_view reason) {
  const Labels labels = {
      {"sink", sink}, {"signal", std::string(signal)}, {"reason", std::string(reason)}};
  return {&metrics().counter("stackhouse_queue_dropped_records_total",
                             "Records dropped from a sink's queue: reason=full (onFull: "
                             "dropOldest) or refused (the sink refused them for good).",
                             labels),
          &metrics().counter("stackhouse_queue_dropped_rows_total",
                             "Rows (log records, spans, metric points) of the records dropped "
                             "from a sink's queue, by the same reasons as "
                             "stackhouse_queue_dropped_records_total.",
                             labels)};
}

SinkQueue::SinkQueue(const SinkQueueOptions& options)
    : options_(options),
      refused_(metrics().counter("stackhouse_queue_refused_appends_total",
                                 "Requests refused because a sink's queue was full (backpressure): "
                                 "before their body was read, or at the append.",
                                 {{"sink", options.sink}})),
      refusedDecoded_(metrics().counter(
          "stackhouse_queue_refused_decoded_total",
          "Of the refused appends, those refused at the append: after the request was read and "
          "decoded (its records outgrew the room its header reserved).",
          {{"sink", options.sink}})),
      bytesGauge_(metrics().gauge("stackhouse_queue_bytes", "Bytes of a sink's queue on disk.",
                                  {{"sink", options.sink}})) {
  forEachSignal([&](auto tag) {
    using B = std::remove_const_t<std::remove_pointer_t<decltype(tag)>>;
    const DroppedCounters dropped = droppedCounters(options.sink, SignalTraits<B>::kName, "full");
    droppedRecords_[signalIndex(SignalTraits<B>::kSignal)] = dropped.records;
    droppedRows_[signalIndex(SignalTraits<B>::kSignal)] = dropped.rows;
  });
}

Result<std::unique_ptr<SinkQueue>> SinkQueue::open(const SinkQueueOptions& options,
                                                   std::vector<RequestKey>* recovered) {
  if (::mkdir(options.dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return unavailable("queue: cannot create " + options.dir + ": " + std::strerror(errno));
  }
  std::unique_ptr<SinkQueue> queue(new SinkQueue(options));
  Counter& tornBytes = metrics().counter(
      "stackhouse_queue_torn_bytes_total",
      "Bytes cut off the end of queue segments at start (records cut short or damaged).",
      {{"sink", options.sink}});
  Status status;
  forEachSignal([&](auto tag) {
    using B = std::remove_const_t<std::remove_pointer_t<decltype(tag)>>;
    if (!status.isOk()) return;
    SegmentLogOptions logOptions;
    logOptions.dir = options.dir + "/" + std::string(SignalTraits<B>::kName);
    // Segments are what dropOldest deletes: at most a sixteenth of the budget each (not below
    // 1 MiB), so a full queue drops a sliver of its oldest records, not most of what it holds.
    logOptions.segmentBytes =
        std::min(options.segmentBytes, std::max<uint64_t>(options.maxBytes / 16, 1ull << 20));
    logOptions.syncCursor = options.fsync;
    Recovery recovery;
    auto log = SegmentLog::open(logOptions, &recovery);
    if (!log) {
      status = log.status();
      return;
    }
    if (recovery.tornBytes > 0) {
      tornBytes.inc(recovery.tornBytes);
      log::warn("queue: cut a damaged or unfinished tail; it held no acknowledged record",
                log::Fields()
                    .add("sink", options.sink)
                    .add("signal", SignalTraits<B>::kName)
                    .add("bytes", recovery.tornBytes)
                    .add("segments", recovery.tornSegments));
    }
    if (recovery.records > 0) {
      log::info("queue: records not yet stored by their sink, sent now",
                log::Fields()
                    .add("sink", options.sink)
                    .add("signal", SignalTraits<B>::kName)
                    .add("records", recovery.records)
                    .add("rows", recovery.rows));
    }
    if (recovered != nullptr) {
      recovered->insert(recovered->end(), recovery.keys.begin(), recovery.keys.end());
    }
    queue->logs_[signalIndex(SignalTraits<B>::kSignal)] = std::move(log.value());
  });
  if (!status.isOk()) return status;
  queue->refreshGauge();
  return queue;
}

Result<SegmentLog::Summary> SinkQueue::peek(const std::string& dir) {
  SegmentLog::Summary total;
  Status status;
  forEachSignal([&](auto tag) {
    using B = std::remove_const_t<std::remove_pointer_t<decltype(tag)>>;
    if (!status.isOk()) return;
    auto s = SegmentLog::peek(dir + "/" + std::string(SignalTraits<B>::kName));
    if (!s) {
      status = s.status();
      return;
    }
    total.records += s->records;
    total.rows += s->rows;
  });
  if (!status.isOk()) return status;
  return total;
}

uint64_t SinkQueue::bytes() const {
  uint64_t n = 0;
  for (const auto& log : logs_) n += log->bytesOnDisk();
  return n;
}

bool SinkQueue::fits(uint64_t bytes, uint64_t reservedByCaller) {
  if (!reserves() ||
      this->bytes() + (reservedBytes() - reservedByCaller) + bytes <= options_.maxBytes) {
    return true;
  }
  refused_.inc();
  refusedDecoded_.inc();
  return false;
}

bool SinkQueue::reserve(uint64_t bytes) {
  if (!reserves()) return true;
  const uint64_t held = this->bytes();
  uint64_t reserved = reserved_.load(std::memory_order_relaxed);
  do {
    if (held + reserved + bytes > options_.maxBytes) {
      refused_.inc();
      return false;
    }
  } while (!reserved_.compare_exchange_weak(reserved, reserved + bytes, std::memory_order_relaxed));
  return true;
}

void SinkQueue::release(uint64_t bytes) {
  if (reserves()) reserved_.fetch_sub(bytes, std::memory_order_relaxed);
}

bool SinkQueue::dropOldest() {
  SegmentLog* oldest = nullptr;
  size_t index = 0;
  int64_t oldestNanos = INT64_MAX;
  for (size_t i = 0; i < logs_.size(); ++i) {
    const int64_t t = logs_[i]->oldestDroppableNanos();
    if (t < oldestNanos) {
      oldestNanos = t;
      oldest = logs_[i].get();
      index = i;
    }
  }
  if (oldest == nullptr) return false;
  const SegmentLog::Dropped dropped = oldest->dropOldest();
  if (dropped.bytes == 0) return false;
  droppedRecords_[index]->inc(dropped.records);
  droppedRows_[index]->inc(dropped.rows);
  episodeRecords_ += dropped.records;
  if (!dropping_) {
    dropping_ = true;
    log::warn("queue full: dropping its oldest records (onFull: dropOldest)",
              log::Fields().add("sink", options_.sink).add("max_bytes", options_.maxBytes));
  }
  return true;
}

Result<QueuePosition> SinkQueue::append(telemetry::Signal signal, std::span<const iovec> payload,
                                        size_t payloadBytes, uint32_t rows) {
  const uint64_t need = payloadBytes + kRecordHeaderBytes;
  if (need > options_.maxBytes) {
    return unavailable("the " + options_.sink + " queue (" + std::to_string(options_.maxBytes) +
                       " bytes) cannot hold a request this large");
  }
  bool dropped = false;
  // Not the reservations: fits() weighed them under the append lock, and one made since (on a
  // receiver's thread) must not refuse a record after another queue of its route took it.
  while (bytes() + need > options_.maxBytes) {
    if (options_.onFull == OnFull::kBackpressure || !dropOldest()) {
      refused_.inc();
      refusedDecoded_.inc();
      return unavailable("the " + options_.sink + " queue is full (" +
                         std::to_string(options_.maxBytes) + " bytes); retry later");
    }
    dropped = true;
  }
  // An episode lasts until the queue has room again (under half its budget: the sink caught up),
  // not until the next append that happened to fit after a segment was dropped.
  if (dropping_ && !dropped && bytes() + need <= options_.maxBytes / 2) {
    dropping_ = false;
    log::info("queue: no longer dropping",
              log::Fields().add("sink", options_.sink).add("dropped_records", episodeRecords_));
    episodeRecords_ = 0;
  }
  auto appended = log(signal).append(payload, payloadBytes, rows);
  refreshGauge();
  return appended;
}

void SinkQueue::refreshGauge() { bytesGauge_.set(static_cast<int64_t>(bytes())); }

Status SinkQueue::sync() {
  Status status;
  for (const auto& log : logs_) {
    Status s = log->sync(options_.fsync);
    if (!s.isOk() && status.isOk()) status = std::move(s);
  }
  return status;
}

}  // namespace stackhouse::pipeline
