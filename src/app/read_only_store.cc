#include "app/read_only_store.h"

#include <cstdio>
#include <string>

#include "pipeline/sink_queue.h"

namespace stackhouse::app {

namespace {

void note(std::string_view command, const std::string& line) {
  std::fprintf(stderr, "stackhouse %.*s: %s\n", static_cast<int>(command.size()), command.data(),
               line.c_str());
}

}  // namespace

Result<std::unique_ptr<store::ChdbStore>> openStoreReadOnly(const config::Config& config,
                                                            std::string_view command,
                                                            std::string_view apiEndpoint) {
  const std::string& dataDir = config.clickstack.dataDir;
  store::StoreOptions options;
  options.dataDir = dataDir + "/clickhouse";
  options.mode = store::OpenMode::kReadOnly;
  auto opened = store::ChdbStore::open(options);
  if (!opened) {
    switch (opened.status().code()) {
      case StatusCode::kNotFound:
        return Status(StatusCode::kNotFound,
                      "no stackhouse data in " + dataDir + ": start `stackhouse run` on it first");
      case StatusCode::kUnavailable:
        return unavailable(dataDir +
                           " is in use by another process, and no stackhouse API answers at " +
                           std::string(apiEndpoint) +
                           ": pass the --config of the `stackhouse run` that holds it, or stop it");
      default: return opened.status();
    }
  }

  // Read, never sent nor changed: `run` sends it on start.
  const std::string queueDir = dataDir + "/queue/clickhouse";
  auto queued = pipeline::SinkQueue::peek(queueDir);
  if (!queued) {
    note(command, queueDir + " cannot be read (" + queued.status().message() +
                      "); `stackhouse run` reports it on start");
  } else if (queued->records > 0) {
    note(command, "the clickhouse queue (" + queueDir + ") holds " +
                      std::to_string(queued->records) + " requests (" +
                      std::to_string(queued->rows) +
                      " rows) not yet stored; `stackhouse run` stores them on start, and until "
                      "then they are not in the answers");
  }
  const auto& missing = opened.value()->missingTables();
  if (!missing.empty()) {
    std::string names;
    for (const std::string& name : missing) names += (names.empty() ? "" : ", ") + name;
    note(command, dataDir + " lacks tables of this version's schema (" + names +
                      "); `stackhouse run` creates them");
  }
  return std::move(opened.value());
}

}  // namespace stackhouse::app
