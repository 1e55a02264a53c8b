// BatchPool: reuses batches, so that steady-state ingest allocates no column memory.
//
// acquire() hands out an empty batch whose buffers keep the capacity of earlier use; the
// PooledBatch returns it (cleared) to the pool when destroyed. The pool keeps at most
// `maxIdle` batches, and frees batches that grew past `maxIdleBytes` rather than keeping them.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "telemetry/batch_ops.h"
#include "telemetry/metric_batch.h"

namespace stackhouse::pipeline {

template <typename B>
class BatchPool;

template <typename B>
class PooledBatch {
 public:
  PooledBatch() = default;
  PooledBatch(std::unique_ptr<B> batch, BatchPool<B>* pool)
      : batch_(std::move(batch)), pool_(pool) {}
  PooledBatch(PooledBatch&&) noexcept = default;
  PooledBatch& operator=(PooledBatch&& other) noexcept {
    reset();
    batch_ = std::move(other.batch_);
    pool_ = other.pool_;
    return *this;
  }
  ~PooledBatch() { reset(); }

  B* get() const { return batch_.get(); }
  B& operator*() const { return *batch_; }
  B* operator->() const { return batch_.get(); }
  explicit operator bool() const { return batch_ != nullptr; }
  void reset();

 private:
  std::unique_ptr<B> batch_;
  BatchPool<B>* pool_ = nullptr;
};

namespace detail {
inline void clearAny(telemetry::MetricBatch& m) {
  m.forEachKind([](auto& kind) { telemetry::clearBatch(kind); });
}
template <typename B>
void clearAny(B& b) {
  telemetry::clearBatch(b);
}
inline size_t bytesOfAny(const telemetry::MetricBatch& m) {
  size_t n = 0;
  m.forEachKind([&n](const auto& kind) { n += telemetry::batchBytes(kind); });
  return n;
}
template <typename B>
size_t bytesOfAny(const B& b) {
  return telemetry::batchBytes(b);
}
}  // namespace detail

template <typename B>
class BatchPool {
 public:
  explicit BatchPool(size_t maxIdle = 64, size_t maxIdleBytes = 64u << 20)
      : maxIdle_(maxIdle), maxIdleBytes_(maxIdleBytes) {}

  PooledBatch<B> acquire() {
    {
      std::lock_guard lock(mu_);
      if (!idle_.empty()) {
        auto b = std::move(idle_.back());
        idle_.pop_back();
        return PooledBatch<B>(std::move(b), this);
      }
    }
    return PooledBatch<B>(std::make_unique<B>(), this);
  }

  void release(std::unique_ptr<B> batch) {
    if (detail::bytesOfAny(*batch) > maxIdleBytes_) return;  // too big to keep around
    detail::clearAny(*batch);
    std::lock_guard lock(mu_);
    if (idle_.size() < maxIdle_) idle_.push_back(std::move(batch));
  }

 private:
  const size_t maxIdle_;
  const size_t maxIdleBytes_;
  std::mutex mu_;
  std::vector<std::unique_ptr<B>> idle_;  // guarded by mu_
};

template <typename B>
void PooledBatch<B>::reset() {
  if (batch_ && pool_) pool_->release(std::move(batch_));
  batch_.reset();
}

}  // namespace stackhouse::pipeline
