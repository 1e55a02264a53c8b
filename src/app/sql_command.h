// `stackhouse sql "SELECT ..."`: runs a query and prints the result as an aligned table.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "config/config.h"
#include "store/chdb_store.h"

namespace stackhouse::app {

// Sends the query to the running stack's API (clickstack.hyperdx.listen). When nothing listens
// there, reads the embedded store of `config.clickstack.dataDir` directly, read-only
// (openStoreReadOnly: nothing in the directory changes). Returns the exit code: 0, or 1 with the
// error on stderr.
int runSqlCommand(const config::Config& config, const std::string& sql, bool json);

// The API's JSON answer to `sql`: from the running stack's API, or, when nothing listens, from the
// embedded store of `config.clickstack.dataDir` opened read-only (kept in `*openStore` for the
// next call when given; `command` names the command in the lines openStoreReadOnly writes). A
// refused or failed query is kInvalidArgument carrying the answer; a store that cannot be opened
// is that error (one line for the user).
Result<std::string> querySqlJson(const config::Config& config, const std::string& sql,
                                 std::unique_ptr<store::ChdbStore>* openStore = nullptr,
                                 std::string_view command = "sql");

// Formats an API answer ({"columns": [...], "rows": [...]}) as an aligned text table.
std::string formatTable(const std::string& apiJson);

}  // namespace stackhouse::app
