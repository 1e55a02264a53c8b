// InsertJournal: the group being inserted, on disk, so that a restart after kill -9 knows whether
// it was committed.
//
// The pipeline writes a group (its signal, its deduplication token, its requests' keys and its
// batches) here before inserting it, and clears the journal once the insert's outcome is known
// and the keys are in the request ledger. A process killed between the two leaves the group here.
// At the next start, before any receiver listens, the pipeline hands it to the sink again as a
// retry (Attempt::kRetry): the sink stores those of its rows that the first insert did not
// commit, all, some or none; either way the keys then go into the ledger, so the clients' retries
// of those requests are answered without storing their rows a second time. Without the journal, a
// kill in the few milliseconds between the commit and the ledger write made those retries
// duplicates.
//
// Crash safety: the file is emptied before each write and written in order, ending with a footer
// that holds the record's length, so a kill during the write leaves a record without its footer,
// which recovery discards (that group's insert had not started). The data goes to the page cache
// with write(2), no fsync: it survives the process, as the store's own parts do.
//
// Not thread-safe: used by the pipeline's insert thread (and by start() before it runs).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/status.h"
#include "pipeline/request_ledger.h"
#include "telemetry/log_batch.h"
#include "telemetry/metric_batch.h"
#include "telemetry/span_batch.h"

namespace stackhouse::pipeline {

class InsertJournal {
 public:
  // A group read back from the journal.
  struct Group {
    std::string token;
    std::vector<RequestKey> keys;
    std::variant<std::vector<std::unique_ptr<telemetry::LogBatch>>,
                 std::vector<std::unique_ptr<telemetry::SpanBatch>>,
                 std::vector<std::unique_ptr<telemetry::MetricBatch>>>
        batches;
  };

  // Opens (or creates) the journal file. Start-up only.
  static Result<std::unique_ptr<InsertJournal>> open(const std::string& path);

  // What recover() would return for the journal at `path`, read without creating or changing the
  // file (opened read-only; no file: no group). For commands that only read a data directory:
  // they report an unfinished group, and leave it to `run` to replay.
  static Result<std::optional<Group>> peek(const std::string& path);
  ~InsertJournal();
  InsertJournal(const InsertJournal&) = delete;
  InsertJournal& operator=(const InsertJournal&) = delete;

  // Replaces the journal's content with this group.
  Status write(std::string_view token, std::span<const RequestKey> keys,
               std::span<const telemetry::LogBatch* const> batches);
  Status write(std::string_view token, std::span<const RequestKey> keys,
               std::span<const telemetry::SpanBatch* const> batches);
  Status write(std::string_view token, std::span<const RequestKey> keys,
               std::span<const telemetry::MetricBatch* const> batches);

  // Empties the journal.
  Status clear();

  // The group left by the previous process, if a whole one is there. A record cut short is
  // ignored; one that is whole but malformed is an error naming the problem.
  Result<std::optional<Group>> recover();

 private:
  explicit InsertJournal(int fd) : fd_(fd) {}
  template <typename B>
  Status writeGroup(uint32_t signal, std::string_view token, std::span<const RequestKey> keys,
                    std::span<const B* const> batches);

  int fd_;
};

}  // namespace stackhouse::pipeline
