// The API port (clickstack.hyperdx.listen): POST /api/v1/sql (see query/sql_api.h).
//
// Before anything runs, a request must look like one a script or our own UI sends, never one a
// web page the operator happens to visit could make the browser send:
//   - Host names this server (the listen host, or a loopback name when it listens on loopback;
//     any when it listens beyond loopback): a DNS-rebinding page has a foreign Host;
//   - Origin, when present, names this server too: a cross-site form or fetch has a foreign one;
//   - POST bodies are application/json: a cross-site "simple" request can only send text/plain,
//     form or multipart bodies without a preflight.
// Queries run on the QueryService's workers, never on the IO thread.
#pragma once

#include <string>
#include <vector>

#include "http/server.h"
#include "query/query_service.h"

namespace stackhouse::web {

struct ApiOptions {
  std::string listenHost = "127.0.0.1";  // clickstack.hyperdx.listen's host
};

class ApiHandler {
 public:
  ApiHandler(const ApiOptions& options, query::QueryService& queries);
  // Called on an IO thread; answers later, from a query worker.
  void handle(http::Request&& request, http::Respond respond);

 private:
  // The refusal of a request a browser may have been tricked into sending, or empty.
  std::string refusal(const http::Request& request) const;

  std::vector<std::string> hosts_;  // accepted Host names, lower-case; empty: any
  query::QueryService& queries_;
};

}  // namespace stackhouse::web
