// A pipeline sink for tests: counts the rows it stores and keeps the log bodies and attributes;
// `fail` makes it fail retryably (nothing leaves its queue), `refuse` for good.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "pipeline/pipeline.h"
#include "pipeline/sink.h"

namespace stackhouse::testing {

class CountingSink : public pipeline::Sink {
 public:
  Status writeLogs(std::span<const telemetry::LogBatch* const> batches, std::string_view,
                   pipeline::Attempt) override {
    if (fail) return unavailable("store down");
    if (refuse) return invalidArgument("rows cannot be stored");
    std::lock_guard lock(mu);
    for (const auto* b : batches) {
      for (size_t i = 0; i < b->rows(); ++i) bodies.emplace_back(b->body.at(i));
      const telemetry::MapColumn& a = b->logAttributes;
      for (size_t i = 0; i < a.keys().size(); ++i)
        attributes.emplace_back(a.keys().at(i), a.values().at(i));
      logs += b->rows();
    }
    return Status::ok();
  }
  Status writeSpans(std::span<const telemetry::SpanBatch* const> batches, std::string_view,
                    pipeline::Attempt) override {
    for (const auto* b : batches) spans += b->rows();
    return Status::ok();
  }
  Status writeMetrics(std::span<const telemetry::MetricBatch* const> batches, std::string_view,
                      pipeline::Attempt) override {
    for (const auto* b : batches) points += b->rows();
    return Status::ok();
  }

  std::atomic<size_t> logs{0}, spans{0}, points{0};
  std::atomic<bool> fail{false};
  std::atomic<bool> refuse{false};  // a permanent failure (see pipeline/sink.h)
  std::mutex mu;
  std::vector<std::string> bodies;                              // guarded by mu
  std::vector<std::pair<std::string, std::string>> attributes;  // guarded by mu
};

// A started pipeline into `sink` (its one store) that answers after at most 5 ms.
inline std::unique_ptr<pipeline::Pipeline> startedPipeline(pipeline::Sink& sink) {
  pipeline::PipelineOptions options;
  options.timeout = std::chrono::milliseconds(5);
  auto started = std::make_unique<pipeline::Pipeline>(options, sink);
  started->start();
  return started;
}

// A started pipeline whose one sink, `down`, fails and whose logs queue holds 2 KiB: the second
// or third request finds it full (onFull: backpressure).
inline std::unique_ptr<pipeline::Pipeline> fullQueuePipeline(CountingSink& down,
                                                             const std::string& name) {
  down.fail = true;  // nothing leaves the queue
  std::vector<pipeline::PipelineSink> sinks(1);
  sinks[0].sink = &down;
  sinks[0].queue.sink = name;
  sinks[0].queue.maxBytes = 2048;
  sinks[0].sources = {telemetry::Source::kLogs};
  auto full = std::make_unique<pipeline::Pipeline>(pipeline::PipelineOptions{}, std::move(sinks));
  full->start();
  return full;
}

}  // namespace stackhouse::testing
