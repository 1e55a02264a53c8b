// The API port (clickstack.hyperdx.listen): POST /api/v1/sql (see query/sql_api.h).
// Queries run on the caller's IO thread; they are serialised on the store's read connection.
#pragma once

#include "http/server.h"
#include "store/chdb_store.h"

namespace stackhouse::web {

class ApiHandler {
 public:
  explicit ApiHandler(store::ChdbStore& store) : store_(store) {}
  void handle(http::Request&& request, http::Respond respond);

 private:
  store::ChdbStore& store_;
};

}  // namespace stackhouse::web
