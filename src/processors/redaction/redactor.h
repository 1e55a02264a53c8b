// Redactor: the telemetry-controls stage. Rewrites each decoded batch in place so that no
// customer content, secret, identifying URL part or file name reaches a sink.
//
// What it looks at (see docs/telemetry-controls.md for every rule):
//   logs:    Body, ResourceAttributes, ScopeAttributes, LogAttributes
//   spans:   SpanName, StatusMessage, ResourceAttributes, SpanAttributes, Events.Attributes,
//            Links.Attributes
//   metrics: ResourceAttributes, ScopeAttributes, Attributes, Exemplars.FilteredAttributes
// Log records and spans that had anything replaced or removed get the attributes
// redaction.masked.count / redaction.removed.count (counts only, never values); metric points do
// not, since an extra attribute would start a new time series. Every replacement and removal is
// counted per rule on /metrics (stackhouse_redaction_values_total{rule,action}).
//
// Cost: a column none of whose values change is not copied. A column with a change is rebuilt
// into a per-thread scratch column that is then swapped with it, so the batch's buffers and the
// scratch buffers trade places and steady-state ingest allocates nothing.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "common/metrics.h"
#include "pipeline/stage.h"
#include "processors/redaction/hmac.h"
#include "processors/redaction/key_policy.h"
#include "processors/redaction/policy.h"
#include "processors/redaction/scanner.h"

namespace stackhouse::redaction {

inline constexpr std::string_view kMaskedCountKey = "redaction.masked.count";
inline constexpr std::string_view kRemovedCountKey = "redaction.removed.count";

// Findings per rule, for audit.
using RuleCounts = std::array<uint64_t, kRuleCount>;

class Redactor final : public pipeline::Stage {
 public:
  // The policy must carry its hmacKey (empty is allowed but makes hashes guessable).
  explicit Redactor(Policy policy);
  Redactor(const Redactor&) = delete;
  Redactor& operator=(const Redactor&) = delete;

  // pipeline::Stage. Thread-safe: any number of receiver threads at once.
  void process(telemetry::LogBatch& batch) override;
  void process(telemetry::SpanBatch& batch) override;
  void process(telemetry::MetricBatch& batch) override;

  // Audit: adds to `found` what the policy would replace or remove in one stored value. `key`
  // empty means free text (a body or a span name). Thread-safe.
  void inspect(std::string_view key, std::string_view value, RuleCounts& found) const;

  const Policy& policy() const { return policy_; }
  uint64_t maskedTotal(Rule rule) const { return masked_[static_cast<size_t>(rule)]->value(); }
  uint64_t removedTotal(Rule rule) const { return removed_[static_cast<size_t>(rule)]->value(); }

 private:
  struct Scratch;
  Scratch& scratch() const;
  template <typename OwnerOf>
  void rewriteStrings(telemetry::StringColumn& column, Scratch& s, OwnerOf&& ownerOf) const;
  template <typename OwnerOf>
  void rewriteMap(telemetry::MapColumn& column, Scratch& s, OwnerOf&& ownerOf, bool summary) const;
  template <typename Kind>
  void processMetricKind(Kind& kind, Scratch& s) const;
  void beginBatch(Scratch& s, size_t rows) const;
  void publishCounts(Scratch& s) const;

  const Policy policy_;
  const KeyPolicy keys_;
  const HmacSha256 hmac_;
  const Scanner scanner_;
  const uint64_t id_;  // tells this redactor's per-thread scratch from another's
  std::array<Counter*, kRuleCount> masked_{};
  std::array<Counter*, kRuleCount> removed_{};
};

}  // namespace stackhouse::redaction
