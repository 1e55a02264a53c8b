// The data directory as seen by a command that only reads it (`sql`, `audit`, and any later one).
//
// Such a command must never change a data directory: it opens the embedded store read-only
// (store::OpenMode::kReadOnly: no schema, no retention or setting change, no background merge),
// reads the clickhouse sink's queue without sending it, and creates nothing. What only `stackhouse
// run` may do (store what the queue holds, create or migrate tables) is reported, not done.
#pragma once

#include <memory>
#include <string_view>

#include "common/status.h"
#include "config/config.h"
#include "store/chdb_store.h"

namespace stackhouse::app {

// Opens the store of `config.clickstack.dataDir` read-only. Writes one line to stderr, prefixed
// "stackhouse <command>: ", for each thing only `run` may fix: records in the clickhouse
// sink's queue not yet stored, tables of the schema that are missing. The store still answers what
// it holds. Errors carry one line for the user: no stackhouse data there (kNotFound; the directory
// is not created), the directory held by another process (kUnavailable; `apiEndpoint`, where the
// command looked for a running stack's API, is named), or the engine's own failure. Call it
// before starting threads of its own: the engine's stderr is captured while it opens.
Result<std::unique_ptr<store::ChdbStore>> openStoreReadOnly(const config::Config& config,
                                                            std::string_view command,
                                                            std::string_view apiEndpoint);

}  // namespace stackhouse::app
