// Profiles the statements of a search request on a stackhouse data directory (the server
// stopped), for docs/benchmarks.md: for each of the request's windows (query/search_api.h), the
// engine's `EXPLAIN indexes = 1` (which parts and granules the primary key and each skip index
// keep) when --explain is given, then the statement's time, rows and bytes read. --whole: the
// whole range in one statement, as before the windows; --windows=N: up to N narrow windows.
//   search_explain <engine data dir> [--explain] [--whole] [--windows=N] [--sql '<statement>']
//                  '<request JSON>'...
// A request without "from"/"to" covers the 24 hours before now, as the search benchmark does.
// --sql '<statement>' runs one statement as written instead (a schema experiment: ALTER TABLE
// ... ADD INDEX, MATERIALIZE INDEX), with its time, rows and bytes read; give it again to time it
// again.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "query/search_api.h"
#include "store/chdb_store.h"

using namespace stackhouse;

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr,
                 "usage: search_explain <engine data dir> [--explain] '<request JSON>'...\n");
    _exit(2);
  }
  auto store = store::ChdbStore::open({argv[1], 72 * 3600});
  if (!store.isOk()) {
    std::fprintf(stderr, "cannot open the store: %s\n", store.status().toString().c_str());
    _exit(1);
  }
  const int64_t nowNs = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  bool explain = false;
  int64_t firstWindowNs = query::kFirstWindowNs;
  int narrowWindows = query::kNarrowWindows;
  for (int i = 2; i < argc; ++i) {
    std::string body = argv[i];
    if (body.starts_with("--windows=")) {
      narrowWindows = std::atoi(body.c_str() + 10);
      continue;
    }
    if (body == "--sql" && i + 1 < argc) {
      const std::string sql = argv[++i];
      auto out = store.value()->execute(sql, "TSV");
      if (!out.isOk()) {
        std::printf("-- %s\n", out.status().toString().c_str());
        continue;
      }
      std::printf("%s-- %.1f ms, %llu rows read, %llu bytes read\n",
                  out.value().data.substr(0, 4000).c_str(), out.value().elapsedSeconds * 1000,
                  static_cast<unsigned long long>(out.value().rowsRead),
                  static_cast<unsigned long long>(out.value().bytesRead));
      continue;
    }
    if (body == "--explain" || body == "--whole") {
      explain = explain || body == "--explain";
      if (body == "--whole") firstWindowNs = 0;
      continue;
    }
    if (body.find("\"from\"") == std::string::npos && !body.empty() && body.back() == '}') {
      body.pop_back();
      body += ", \"from\": " + std::to_string(nowNs / 1000000 - 86400000) + "}";
    }
    auto prepared = query::prepareSearch(body, nowNs, firstWindowNs, narrowWindows);
    if (auto* e = std::get_if<query::SqlApiReply>(&prepared)) {
      std::fprintf(stderr, "%s: %s\n", body.c_str(), e->json.c_str());
      _exit(1);
    }
    const auto& p = std::get<query::PreparedSearch>(prepared);
    std::printf("== %s (%zu windows)\n", body.c_str(), p.windows.size());
    for (size_t w = 0; w < p.windows.size(); ++w) {
      const auto& s = p.windows[w];  // the capped form (query/search_api.h)
      if (explain) {
        auto plan = store.value()->query("EXPLAIN indexes = 1 " + s.sql, "TSVRaw", s.params);
        std::printf("-- window %zu statement\n%s\n-- window %zu plan\n%s\n", w, s.sql.c_str(), w,
                    plan.isOk() ? plan.value().data.c_str() : plan.status().toString().c_str());
      }
      auto out = store.value()->query(s.sql, "JSONCompactEachRow", s.params);
      if (!out.isOk()) {
        std::printf("-- window %zu: %s\n", w, out.status().toString().c_str());
        continue;
      }
      size_t rows = 0;
      for (char ch : out.value().data) rows += ch == '\n';
      std::printf("-- window %zu: %zu rows, %.1f ms, %llu rows read, %llu bytes read\n", w, rows,
                  out.value().elapsedSeconds * 1000,
                  static_cast<unsigned long long>(out.value().rowsRead),
                  static_cast<unsigned long long>(out.value().bytesRead));
      if (static_cast<int>(rows) >= p.limit) break;
    }
  }
  std::fflush(stdout);
  _exit(0);
}
