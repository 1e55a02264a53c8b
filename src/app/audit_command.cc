#include "app/audit_command.h"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "app/sql_command.h"
#include "processors/redaction/redaction_config.h"
#include "processors/redaction/redactor.h"

namespace stackhouse::app {

namespace {

// Rows asked for in one answer; halved while an answer does not fit the result bounds.
constexpr uint64_t kAuditPageRows = 10'000;

struct TableScan {
  const char* table;
  const char* timeColumn;
  std::vector<const char*> columns;  // String, Map(String, String) or Array(Map(String, String))
};

const std::vector<TableScan>& tableScans() {
  static const std::vector<TableScan> scans = {
      {"otel_logs",
       "Timestamp",
       {"Body", "ResourceAttributes", "ScopeAttributes", "LogAttributes"}},
      {"otel_traces",
       "Timestamp",
       {"SpanName", "StatusMessage", "ResourceAttributes", "SpanAttributes", "Events.Attributes",
        "Links.Attributes"}},
      {"otel_metrics_gauge",
       "TimeUnix",
       {"ResourceAttributes", "ScopeAttributes", "Attributes", "Exemplars.FilteredAttributes"}},
      {"otel_metrics_sum",
       "TimeUnix",
       {"ResourceAttributes", "ScopeAttributes", "Attributes", "Exemplars.FilteredAttributes"}},
      {"otel_metrics_histogram",
       "TimeUnix",
       {"ResourceAttributes", "ScopeAttributes", "Attributes", "Exemplars.FilteredAttributes"}},
      {"otel_metrics_exponential_histogram",
       "TimeUnix",
       {"ResourceAttributes", "ScopeAttributes", "Attributes", "Exemplars.FilteredAttributes"}},
      {"otel_metrics_summary", "TimeUnix", {"ResourceAttributes", "ScopeAttributes", "Attributes"}},
  };
  return scans;
}

// Adds the findings of one stored value (a string, a map, or an array of maps) to `found`.
void inspectCell(const redaction::Redactor& redactor, simdjson::dom::element cell,
                 redaction::RuleCounts& found) {
  std::string_view text;
  if (cell.get_string().get(text) == simdjson::SUCCESS) {
    redactor.inspect({}, text, found);
    return;
  }
  simdjson::dom::object map;
  if (cell.get_object().get(map) == simdjson::SUCCESS) {
    for (auto field : map) {
      std::string_view value;
      if (field.value.get_string().get(value) == simdjson::SUCCESS)
        redactor.inspect(field.key, value, found);
    }
    return;
  }
  simdjson::dom::array items;
  if (cell.get_array().get(items) == simdjson::SUCCESS) {
    for (auto item : items) inspectCell(redactor, item, found);
  }
}

}  // namespace

int runAuditCommand(const config::Config& config, const AuditOptions& options) {
  const auto& redactionConfig = config.otelConfig.processors.redaction;
  // The key only shapes hashes, and the audit makes none.
  redaction::Policy policy = redaction::policyFromConfig(redactionConfig, "audit-makes-no-hashes");
  // Rules that are off in the configuration still count: the audit asks what is stored, before
  // anything is shared outside the organisation. Allow-list mode follows the configuration.
  for (redaction::RulePolicy& rule : policy.rules) rule.enabled = true;
  policy.rule(redaction::Rule::kAllowList).enabled = redactionConfig.allowListMode;
  const redaction::Redactor redactor(std::move(policy));

  const auto sinceSeconds = std::chrono::duration_cast<std::chrono::seconds>(options.since).count();
  std::unique_ptr<store::ChdbStore> store;
  uint64_t scannedRows = 0;
  uint64_t findings = 0;
  bool headerPrinted = false;  // after the first answer: a store that cannot open prints no table
  for (const TableScan& scan : tableScans()) {
    std::string columns;
    for (const char* c : scan.columns) {
      if (!columns.empty()) columns += ", ";
      columns += '`';
      columns += c;
      columns += '`';
    }
    // rows found per column and rule
    std::vector<std::array<uint64_t, redaction::kRuleCount>> perColumn(scan.columns.size());
    // The newest rows, a page at a time: every answer must fit the API's bounds on a result
    // (32 MiB), and a page that does not is asked for again at half the size.
    uint64_t page = kAuditPageRows;
    for (uint64_t offset = 0; offset < options.maxRowsPerTable;) {
      const uint64_t want = std::min(page, options.maxRowsPerTable - offset);
      // Only numbers we produced go into the text: no user input is spliced.
      const std::string sql = "SELECT " + columns + " FROM otel." + scan.table + " WHERE " +
                              scan.timeColumn + " >= now64(9) - toIntervalSecond(" +
                              std::to_string(sinceSeconds) + ") ORDER BY " + scan.timeColumn +
                              " DESC LIMIT " + std::to_string(want) + " OFFSET " +
                              std::to_string(offset);
      auto reply = querySqlJson(config, sql, &store, "audit");
      if (!reply.isOk()) {
        const std::string& message = reply.status().message();
        const bool tooLarge = message.find("TOO_MANY_ROWS_OR_BYTES") != std::string::npos ||
                              message.find("RESULT_TOO_LARGE") != std::string::npos;
        if (tooLarge && page > 1) {
          page /= 2;
          continue;
        }
        // A table the data directory lacks was reported when the store opened; the others are
        // still scanned.
        if (store &&
            std::ranges::find(store->missingTables(), scan.table) != store->missingTables().end()) {
          break;
        }
        // A refused query names its table; a store that cannot be opened is about no table.
        if (reply.status().code() == StatusCode::kInvalidArgument) {
          std::fprintf(stderr, "stackhouse audit: %s: %s\n", scan.table, message.c_str());
        } else {
          std::fprintf(stderr, "stackhouse audit: %s\n", message.c_str());
        }
        return 2;
      }
      simdjson::dom::parser parser;
      simdjson::dom::element root;
      simdjson::dom::array rows;
      if (parser.parse(reply.value()).get(root) != simdjson::SUCCESS ||
          root["rows"].get_array().get(rows) != simdjson::SUCCESS) {
        std::fprintf(stderr, "stackhouse audit: %s: the answer is not the API's JSON\n",
                     scan.table);
        return 2;
      }
      if (!headerPrinted) {
        std::printf("%-36s %-30s %-18s %s\n", "table", "column", "rule", "rows");
        headerPrinted = true;
      }
      uint64_t got = 0;
      for (auto row : rows) {
        ++got;
        size_t c = 0;
        for (auto cell : row.get_array()) {
          if (c >= scan.columns.size()) break;
          redaction::RuleCounts found{};
          inspectCell(redactor, cell, found);
          for (size_t r = 0; r < redaction::kRuleCount; ++r) {
            perColumn[c][r] += found[r] != 0 ? 1 : 0;
          }
          ++c;
        }
      }
      scannedRows += got;
      offset += got;
      if (got < want) break;  // the table has no more rows in the window
    }
    for (size_t c = 0; c < scan.columns.size(); ++c) {
      for (size_t r = 0; r < redaction::kRuleCount; ++r) {
        if (perColumn[c][r] == 0) continue;
        findings += perColumn[c][r];
        std::printf("%-36s %-30s %-18s %llu\n", scan.table, scan.columns[c],
                    std::string(redaction::ruleName(static_cast<redaction::Rule>(r))).c_str(),
                    static_cast<unsigned long long>(perColumn[c][r]));
      }
    }
  }
  std::printf("scanned %llu rows of the last %llds in %zu tables: %s\n",
              static_cast<unsigned long long>(scannedRows), static_cast<long long>(sinceSeconds),
              tableScans().size(), findings == 0 ? "nothing found" : "content found (see above)");
  return findings == 0 ? 0 : 1;
}

}  // namespace stackhouse::app
