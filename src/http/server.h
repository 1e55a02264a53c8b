// A small HTTP/1.1 server on Boost.Beast, shared by the OTLP/HTTP receiver, the query API and the
// admin endpoints, over plain TCP or TLS (ServerOptions::tls). Beast and OpenSSL stay inside
// server.cc; this header is all its users see.
//
// Each connection reads one request at a time (keep-alive, chunked bodies, Expect: 100-continue)
// and hands it to the Handler on an IO thread. The handler answers through Respond, at once or
// later from any thread (for example after the rows are committed); the next request of that
// connection is read once the answer is written.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "common/status.h"

namespace stackhouse::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

// Whatever an Admit hook keeps for a request it let in (a memory reservation, say), from the
// request's header until the handler lets go of the Request.
class Admission {
 public:
  virtual ~Admission() = default;
};

struct Request {
  std::string method;         // "POST"
  std::string target;         // "/v1/logs?x=y" as sent
  Headers headers;            // names lower-cased
  std::string body;           // as received (still compressed if Content-Encoding says so)
  std::string remoteAddress;  // the peer's IP address ("127.0.0.1", "::1"); empty if unknown
  std::unique_ptr<Admission> admission;  // from ServerOptions::admit; may be null
  // Set once the client has closed its side while the request was being handled (only with
  // ServerOptions::watchClientClose). Any thread may read it.
  std::shared_ptr<const std::atomic<bool>> clientGoneFlag;
  bool clientGone() const { return clientGoneFlag && clientGoneFlag->load(); }
  std::string_view header(std::string_view lowerName) const;
  // The target without its query string.
  std::string_view path() const;
};

struct Response {
  int status = 200;
  std::string contentType;
  std::string body;
  Headers headers;  // extra headers, e.g. Retry-After
};

// Answers a request; callable from any thread, exactly once.
using Respond = std::function<void(Response)>;
// Called on an IO thread for every complete request. Must not block for long: work that waits
// (an insert) completes the Respond later instead.
using Handler = std::function<void(Request&& request, Respond respond)>;

// What a request's header says, for an Admit hook. Views into the connection's parser: valid
// during the call only.
struct RequestHead {
  std::string_view method;
  std::string_view target;
  std::string_view contentType;
  std::optional<uint64_t> contentLength;  // absent for chunked bodies
};

// Decides, once a request's header has arrived and before its body is read, whether to read it.
// A Response refuses the request: it is written at once, then the connection is closed after what
// the client still sends is drained (bounded), so the body is never held. Otherwise the Admission
// (may be null) travels with the request to the handler. Called on an IO thread; must not block.
using AdmitResult = std::variant<Response, std::unique_ptr<Admission>>;
using Admit = std::function<AdmitResult(const RequestHead& head)>;

struct ServerOptions {
  std::string name = "http";  // thread names: <name>-io-<i>; log field "component"
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0: pick a free port
  int threads = 1;
  uint64_t maxBodyBytes = 64 << 20;    // larger bodies get 413 (as received, before inflating)
  uint32_t maxHeaderBytes = 64 << 10;  // larger header blocks get 431
  // To receive a whole request once it has started, and the first request of a new connection
  // (a connection that never sends a byte holds its slot this long, not idleTimeout).
  std::chrono::seconds readTimeout{30};
  std::chrono::seconds idleTimeout{120};  // a keep-alive connection between requests
  int maxConnections = 4096;              // further connections are closed at once (logged at
                                          // most once per 10 s, with the count refused)
  Admit admit;                            // optional: every request is read when unset
  // Watch the socket while a request is handled, and set Request::clientGoneFlag when the client
  // closes: for handlers that can cancel work (queries). Off for the receivers' hot path.
  bool watchClientClose = false;
  // TLS on this listener (TLS 1.2 and newer) when both are set: PEM files, read once at start
  // (start fails naming the file that cannot be read). Empty: plain HTTP.
  struct Tls {
    std::string certFile;  // the certificate chain, leaf first
    std::string keyFile;   // its private key, unencrypted
  } tls;
};

class Server {
 public:
  // Binds and starts the IO threads. Fails (start-up) when the address cannot be bound.
  static Result<std::unique_ptr<Server>> start(const ServerOptions& options, Handler handler);
  virtual ~Server() = default;

  // The bound port (the chosen one when options.port was 0).
  virtual uint16_t port() const = 0;
  // Stops accepting, lets answers already handed to Respond be written for up to `grace`, then
  // closes the connections and joins the IO threads. Idempotent.
  virtual void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(0)) = 0;
};

// "text/plain" Response helpers.
Response textResponse(int status, std::string body);
Response jsonResponse(int status, std::string body);

}  // namespace stackhouse::http
