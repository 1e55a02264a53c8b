#include "processors/redaction/redactor.h"

#include <atomic>
#include <charconv>
#include <memory>
#include <utility>

namespace stackhouse::redaction {

namespace {

std::atomic<uint64_t> nextRedactorId{1};

// A per-thread scratch column bigger than this is freed rather than kept for the next batch.
constexpr size_t kMaxScratchBytes = 64u << 20;

bool looksHashed(std::string_view v) { return v.size() == 18 && v.starts_with("h:"); }

}  // namespace

struct Redactor::Scratch {
  enum class Kind : uint8_t { kKeep, kEdit, kRemove };
  struct Plan {
    uint32_t editBegin;
    uint32_t editEnd;
    Kind kind;
  };

  uint64_t owner = 0;
  KeyCache cache;
  Edits edits;
  std::vector<Plan> plans;
  // The previous row's keys and their classes, in entry order: attribute maps repeat their keys
  // row after row, so most look-ups are one short comparison.
  std::vector<std::string_view> previousKeys;
  std::vector<KeyClass> previousClasses;
  telemetry::StringColumn strings;
  telemetry::MapColumn map;
  std::vector<uint32_t> masked;   // per row of the batch being processed
  std::vector<uint32_t> removed;  // per row
  RuleCounts ruleMasked{};
  RuleCounts ruleRemoved{};
};

Redactor::Redactor(Policy policy)
    : policy_(std::move(policy)),
      keys_(policy_),
      hmac_(policy_.hmacKey),
      scanner_(policy_, keys_, hmac_),
      id_(nextRedactorId.fetch_add(1)) {
  for (size_t i = 0; i < kRuleCount; ++i) {
    const std::string rule(ruleName(static_cast<Rule>(i)));
    masked_[i] = &metrics().counter(
        "stackhouse_redaction_values_total",
        "Values replaced (masked or hashed) or attributes removed by redaction, by rule.",
        {{"rule", rule}, {"action", "masked"}});
    removed_[i] = &metrics().counter(
        "stackhouse_redaction_values_total",
        "Values replaced (masked or hashed) or attributes removed by redaction, by rule.",
        {{"rule", rule}, {"action", "removed"}});
  }
}

Redactor::Scratch& Redactor::scratch() const {
  // One scratch per thread: receivers call from several threads, and the scratch columns must
  // never be shared. Rebuilt when the thread meets another redactor (tests, config reload).
  thread_local std::unique_ptr<Scratch> tls;
  if (!tls || tls->owner != id_) {
    tls = std::make_unique<Scratch>();
    tls->owner = id_;
  }
  return *tls;
}

void Redactor::beginBatch(Scratch& s, size_t rows) const {
  s.masked.assign(rows, 0);
  s.removed.assign(rows, 0);
}

void Redactor::publishCounts(Scratch& s) const {
  for (size_t i = 0; i < kRuleCount; ++i) {
    if (s.ruleMasked[i] != 0) masked_[i]->inc(s.ruleMasked[i]);
    if (s.ruleRemoved[i] != 0) removed_[i]->inc(s.ruleRemoved[i]);
    s.ruleMasked[i] = 0;
    s.ruleRemoved[i] = 0;
  }
}

template <typename OwnerOf>
void Redactor::rewriteStrings(telemetry::StringColumn& column, Scratch& s,
                              OwnerOf&& ownerOf) const {
  telemetry::StringColumn& out = s.strings;
  bool copying = false;
  const size_t rows = column.size();
  for (size_t i = 0; i < rows; ++i) {
    const std::string_view v = column.at(i);
    s.edits.clear();
    if (!v.empty()) scanner_.scanValue(v, s.cache, s.edits);
    if (!s.edits.empty()) {
      for (const Edit& e : s.edits) ++s.ruleMasked[static_cast<size_t>(e.rule)];
      s.masked[ownerOf(i)] += static_cast<uint32_t>(s.edits.size());
      if (!copying) {
        copying = true;
        out.clear();
        for (size_t r = 0; r < i; ++r) out.append(column.at(r));
      }
      Scanner::apply(v, s.edits.data(), s.edits.size(), out.data());
      out.commit();
    } else if (copying) {
      out.append(v);
    }
  }
  if (copying) std::swap(column, out);
  // The scratch now holds the column's old buffers: keep them for the next batch unless they are
  // unusually large (the pool frees such batches too).
  if (out.byteSize() > kMaxScratchBytes) out = telemetry::StringColumn();
}

namespace {

bool sameEntries(const telemetry::MapColumn& m, size_t a, size_t b) {
  const auto fa = static_cast<size_t>(m.offset(a));
  const auto fb = static_cast<size_t>(m.offset(b));
  const auto n = static_cast<size_t>(m.offset(a + 1)) - fa;
  if (static_cast<size_t>(m.offset(b + 1)) - fb != n) return false;
  for (size_t k = 0; k < n; ++k) {
    if (m.keys().at(fa + k) != m.keys().at(fb + k) ||
        m.values().at(fa + k) != m.values().at(fb + k))
      return false;
  }
  return true;
}

}  // namespace

template <typename OwnerOf>
void Redactor::rewriteMap(telemetry::MapColumn& column, Scratch& s, OwnerOf&& ownerOf,
                          bool summary) const {
  using Kind = Scratch::Kind;
  telemetry::MapColumn& out = s.map;
  const telemetry::StringColumn& keys = column.keys();
  const telemetry::StringColumn& values = column.values();
  const Action blockedAction = policy_.rule(Rule::kBlockedKeys).action;
  bool copying = false;
  bool previousClean = false;  // the previous row needed no change
  s.previousKeys.clear();
  s.previousClasses.clear();
  const size_t rows = column.size();
  for (size_t r = 0; r < rows; ++r) {
    const size_t owner = ownerOf(r);
    const auto first = static_cast<size_t>(column.offset(r));
    const auto last = static_cast<size_t>(column.offset(r + 1));
    s.edits.clear();
    s.plans.clear();
    bool changed = false;
    // Resource and scope attributes are repeated on every row of a request: a row equal to a
    // clean previous row is clean too, without scanning it again.
    if (previousClean && r > 0 && sameEntries(column, r - 1, r)) {
      for (size_t e = first; e < last; ++e) s.plans.push_back({0, 0, Kind::kKeep});
    }
    for (size_t e = first; e < last && s.plans.size() < last - first; ++e) {
      const std::string_view key = keys.at(e);
      const std::string_view value = values.at(e);
      const size_t k = e - first;
      KeyClass kc;
      if (k < s.previousKeys.size() && s.previousKeys[k] == key) {
        kc = s.previousClasses[k];
      } else {
        kc = s.cache.classify(keys_, key);
        if (k < s.previousKeys.size()) {
          s.previousKeys[k] = key;
          s.previousClasses[k] = kc;
        } else if (k == s.previousKeys.size()) {
          s.previousKeys.push_back(key);
          s.previousClasses.push_back(kc);
        }
      }
      Scratch::Plan plan{static_cast<uint32_t>(s.edits.size()), 0, Kind::kKeep};
      if (kc == KeyClass::kNotAllowed) {
        plan.kind = Kind::kRemove;
        ++s.ruleRemoved[static_cast<size_t>(Rule::kAllowList)];
        ++s.removed[owner];
      } else if (kc == KeyClass::kBlocked) {
        if (blockedAction == Action::kRemove) {
          plan.kind = Kind::kRemove;
          ++s.ruleRemoved[static_cast<size_t>(Rule::kBlockedKeys)];
          ++s.removed[owner];
        } else if (value != kMask && !looksHashed(value) && !scanner_.allowedValue(value)) {
          s.edits.push_back(
              scanner_.blockedValue(value, 0, static_cast<uint32_t>(value.size()), false));
          plan.kind = Kind::kEdit;
        }
      } else if (kc != KeyClass::kIgnored) {
        scanner_.scanForKey(kc, key, value, s.cache, s.edits);
        if (s.edits.size() > plan.editBegin) plan.kind = Kind::kEdit;
      }
      plan.editEnd = static_cast<uint32_t>(s.edits.size());
      if (plan.kind == Kind::kEdit) {
        for (uint32_t x = plan.editBegin; x < plan.editEnd; ++x) {
          ++s.ruleMasked[static_cast<size_t>(s.edits[x].rule)];
        }
        s.masked[owner] += plan.editEnd - plan.editBegin;
      }
      changed |= plan.kind != Kind::kKeep;
      s.plans.push_back(plan);
    }
    previousClean = !changed;
    const bool addSummary = summary && (s.masked[owner] != 0 || s.removed[owner] != 0);
    changed |= addSummary;
    if (changed && !copying) {
      copying = true;
      out.clear();
      for (size_t pr = 0; pr < r; ++pr) {
        for (auto e = static_cast<size_t>(column.offset(pr));
             e < static_cast<size_t>(column.offset(pr + 1)); ++e) {
          out.add(keys.at(e), values.at(e));
        }
        out.endRow();
      }
    }
    if (!copying) continue;
    for (size_t e = first; e < last; ++e) {
      const Scratch::Plan& plan = s.plans[e - first];
      if (plan.kind == Kind::kRemove) continue;
      out.keys().append(keys.at(e));
      if (plan.kind == Kind::kKeep) {
        out.values().append(values.at(e));
      } else {
        Scanner::apply(values.at(e), s.edits.data() + plan.editBegin, plan.editEnd - plan.editBegin,
                       out.values().data());
        out.values().commit();
      }
    }
    if (addSummary) {
      char digits[24];
      if (s.masked[owner] != 0) {
        const auto res = std::to_chars(digits, digits + sizeof digits, s.masked[owner]);
        out.add(kMaskedCountKey, std::string_view(digits, static_cast<size_t>(res.ptr - digits)));
      }
      if (s.removed[owner] != 0) {
        const auto res = std::to_chars(digits, digits + sizeof digits, s.removed[owner]);
        out.add(kRemovedCountKey, std::string_view(digits, static_cast<size_t>(res.ptr - digits)));
      }
    }
    out.endRow();
  }
  if (copying) std::swap(column, out);
  if (out.byteSize() > kMaxScratchBytes) out = telemetry::MapColumn();
}

void Redactor::process(telemetry::LogBatch& batch) {
  Scratch& s = scratch();
  beginBatch(s, batch.rows());
  auto self = [](size_t r) { return r; };
  rewriteStrings(batch.body, s, self);
  rewriteMap(batch.resourceAttributes, s, self, false);
  rewriteMap(batch.scopeAttributes, s, self, false);
  rewriteMap(batch.logAttributes, s, self, true);
  publishCounts(s);
}

namespace {

// Maps the rows of a list's child column to the rows of the list, for calls in row order.
template <typename List>
auto parentOf(const List& list) {
  return [&list, parent = size_t{0}](size_t child) mutable {
    while (static_cast<size_t>(list.offset(parent + 1)) <= child) ++parent;
    return parent;
  };
}

}  // namespace

void Redactor::process(telemetry::SpanBatch& batch) {
  Scratch& s = scratch();
  beginBatch(s, batch.rows());
  auto self = [](size_t r) { return r; };
  rewriteStrings(batch.spanName, s, self);
  rewriteStrings(batch.statusMessage, s, self);
  rewriteMap(batch.resourceAttributes, s, self, false);
  rewriteMap(batch.eventsAttributes.child(), s, parentOf(batch.eventsAttributes), false);
  rewriteMap(batch.linksAttributes.child(), s, parentOf(batch.linksAttributes), false);
  rewriteMap(batch.spanAttributes, s, self, true);
  publishCounts(s);
}

template <typename Kind>
void Redactor::processMetricKind(Kind& kind, Scratch& s) const {
  if (kind.rows() == 0) return;
  beginBatch(s, kind.rows());
  auto self = [](size_t r) { return r; };
  rewriteMap(kind.common.resourceAttributes, s, self, false);
  rewriteMap(kind.common.scopeAttributes, s, self, false);
  rewriteMap(kind.common.attributes, s, self, false);
  if constexpr (requires { kind.exemplars; }) {
    rewriteMap(kind.exemplars.filteredAttributes.child(), s,
               parentOf(kind.exemplars.filteredAttributes), false);
  }
}

void Redactor::process(telemetry::MetricBatch& batch) {
  Scratch& s = scratch();
  batch.forEachKind([&](auto& kind) { processMetricKind(kind, s); });
  publishCounts(s);
}

void Redactor::inspect(std::string_view key, std::string_view value, RuleCounts& found) const {
  Scratch& s = scratch();
  s.edits.clear();
  if (key.empty()) {
    scanner_.scanValue(value, s.cache, s.edits);
  } else {
    const KeyClass kc = s.cache.classify(keys_, key);
    if (kc == KeyClass::kNotAllowed) {
      ++found[static_cast<size_t>(Rule::kAllowList)];
      return;
    }
    if (kc == KeyClass::kBlocked) {
      if (value != kMask && !looksHashed(value) && !scanner_.allowedValue(value)) {
        ++found[static_cast<size_t>(Rule::kBlockedKeys)];
      }
      return;
    }
    scanner_.scanForKey(kc, key, value, s.cache, s.edits);
  }
  for (const Edit& e : s.edits) ++found[static_cast<size_t>(e.rule)];
}

}  // namespace stackhouse::redaction
