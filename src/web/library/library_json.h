// The JSON of saved searches and dashboards: request bodies validated field by field (errors name
// the field: `tiles[2].w: must be an integer from 1 to 12`), stored as canonical JSON written
// back by us (never the caller's bytes), and the versioned export format.
//
// A saved search:  {name, shared?, source: "logs"|"traces", query?, mode?: "search"|"sql",
//                   columns?: [name...], timeRange?: {from, to}}
// A dashboard:     {name, shared?, timeRange?: {from, to}, filter?, tiles?: [tile...]}
// A tile:          {id, kind, title?, x, y, w, h, <kind>: {...}} on a 12-column grid, kind one of
//   "search"   {source, query?, mode?, columns?}     a table of the newest matching rows
//   "count"    {source, query?, mode?}               a chart of matching rows per time bucket
//   "markdown" {text}                                a note (rendered as text, never as HTML)
//   "metric"   {metric, aggregation?, where?, groupBy?: [≤3], step?, display?:
//               "line"|"bar"|"number"|"table"}       a chart of POST /api/v1/metrics/query
// The export: {"format": "stackhouse.dashboard", "version": 1, "dashboard": {name, timeRange,
// filter, tiles}}.
//
// Pure computation, any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace stackhouse::web::library {

inline constexpr std::string_view kExportFormat = "stackhouse.dashboard";
inline constexpr int kExportVersion = 1;
inline constexpr size_t kMaxTiles = 50;
inline constexpr int kGridColumns = 12;

// A validated request: the fields the store keeps apart and the canonical document.
struct ParsedItem {
  std::string name;
  std::optional<bool> shared;  // absent: unchanged on update, false on create
  std::string document;        // canonical JSON object
};

Result<ParsedItem> parseSavedSearch(std::string_view body);
Result<ParsedItem> parseDashboard(std::string_view body);
// The export document (format and version checked) to a dashboard.
Result<ParsedItem> parseDashboardExport(std::string_view body);

// One JSON object with the members of both: `head` (written by the caller: id, name, ...) and
// `document` (canonical JSON from a parse above, so its members are copied as they are).
std::string mergeObjects(std::string_view head, std::string_view document);

}  // namespace stackhouse::web::library
