#include "app/read_only_store.h"

#include <cstdio>
#include <string>

#include "pipeline/insert_journal.h"

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

  // Read, never replayed nor cleared: `run` replays it before it listens.
  const std::string journalPath = dataDir + "/insert-journal";
  auto journal = pipeline::InsertJournal::peek(journalPath);
  if (!journal) {
    note(command, journalPath + " cannot be read (" + journal.status().message() +
                      "); `stackhouse run` reports it on start");
  } else if (journal->has_value()) {
    note(command, "the insert journal (" + journalPath +
                      ") holds an unfinished insert; `stackhouse run` replays it on start, and "
                      "until then its rows are not in the answers");
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
