// `stackhouse sql "SELECT ..."`: runs a query and prints the result as an aligned table.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "config/config.h"
#include "store/chdb_store.h"

namespace stackhouse::app {

// Sends the query to the running stack's API (clickstack.hyperdx.listen). When nothing listens
// there, opens the embedded store of `config.clickstack.dataDir` directly (read-only). Returns
// the exit code: 0, or 1 with the error on stderr.
int runSqlCommand(const config::Config& config, const std::string& sql, bool json);

// The API's JSON answer to `sql`: from the running stack's API, or, when nothing listens, from the
// embedded store of `config.clickstack.dataDir` opened directly (kept in `*openStore` for the
// next call when given). An error carries the answer.
Result<std::string> querySqlJson(const config::Config& config, const std::string& sql,
                                 std::unique_ptr<store::ChdbStore>* openStore = nullptr);

// Formats an API answer ({"columns": [...], "rows": [...]}) as an aligned text table.
std::string formatTable(const std::string& apiJson);

}  // namespace stackhouse::app
