// A blocking HTTP/1.1 client for sinks, on libcurl: one request at a time per Client, over a
// connection the Client keeps alive between requests.
//
// Thread-safety: a Client is used by one thread at a time (a sink worker owns one); cancel() is
// the one method any thread may call. Separate Clients share nothing and run concurrently.
//
// Ownership: a Request borrows its body for the duration of send(); nothing of the request is
// copied (a body of hundreds of megabytes is sent from the caller's buffer). The Response owns
// what it holds.
//
// Errors: a request that got no HTTP answer carries a TransportError, classified once here, so
// that every sink reads the same failure the same way; an HTTP answer, whatever its status, is
// not an error of this layer (the sink reads the status, headers and body of its service).
//
// Privacy: messages never contain the URL's path or query, credentials or bodies: only the
// host and port curl was talking to, and curl's description of the failure.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace stackhouse::sinks::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

// Why a request got no HTTP answer.
enum class TransportError : unsigned char {
  kNone,            // an HTTP answer arrived (any status)
  kDns,             // the host name did not resolve
  kConnectFailed,   // the connection was refused or the host unreachable
  kTimeout,         // the connect or the whole exchange passed its timeout
  kTls,             // TLS handshake or certificate verification failed, or the CA file is bad
  kConnectionLost,  // the connection broke while sending or receiving (reset, closed early)
  kBadUrl,          // the URL is malformed or its scheme is not http/https (permanent)
  kCancelled,       // cancel() was called during the request
  kOther,           // anything else libcurl reports
};

std::string_view transportErrorName(TransportError error);

struct BasicAuth {
  std::string user;
  std::string password;
};

// Per-Client settings, fixed at create().
struct ClientOptions {
  // TLS (https URLs only). verifyPeer checks the certificate chain and the host name; caFile, when
  // set, is the PEM bundle of trusted CAs used instead of the system's.
  bool verifyPeer = true;
  std::string caFile;
  std::chrono::milliseconds connectTimeout{10'000};
  std::string userAgent = "stackhouse";
  // Headers a response keeps at most (bytes of names and values together); past it further
  // headers are dropped. Bounds what a hostile server can make us hold.
  uint32_t maxResponseHeaderBytes = 64 << 10;
};

struct Request {
  std::string method = "POST";  // any token; GET and HEAD send no body
  std::string url;              // http:// or https://
  Headers headers;              // sent as given (no Expect: 100-continue is ever added)
  std::string_view body;        // borrowed for the call
  std::chrono::milliseconds timeout{30'000};  // the whole exchange, connect included
  std::optional<BasicAuth> basicAuth;
  // Bytes of the response body kept; the rest is read and dropped (so the connection stays
  // reusable) and Response::bodyTruncated is set.
  uint64_t maxResponseBodyBytes = 1 << 20;
};

struct Response {
  TransportError transportError = TransportError::kNone;
  std::string transportMessage;  // set with transportError: what failed, without URL or secrets
  int status = 0;                // the HTTP status (0 with a transport error)
  Headers headers;               // of the final answer; names lower-cased, values trimmed
  std::string body;              // at most Request::maxResponseBodyBytes
  bool bodyTruncated = false;
  bool newConnection = false;  // the request opened a connection (false: an idle one was reused)

  bool answered() const { return transportError == TransportError::kNone; }
  // The first header of that name (lower-case), or empty.
  std::string_view header(std::string_view lowerName) const;
};

class Client {
 public:
  // Fails (kInvalidArgument) when the CA file cannot be read. Initialises libcurl once per
  // process.
  static Result<std::unique_ptr<Client>> create(const ClientOptions& options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Sends one request and waits for its answer or its failure (never longer than
  // request.timeout). Reuses the kept-alive connection to the same host when there is one.
  Response send(const Request& request);

  // Makes the request in flight (if any) end with kCancelled as soon as libcurl next checks,
  // and every later send() too until resetCancel(). Any thread; for shutdown.
  void cancel() { cancelled_.store(true, std::memory_order_relaxed); }
  void resetCancel() { cancelled_.store(false, std::memory_order_relaxed); }

 private:
  struct Impl;
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::atomic<bool> cancelled_{false};
};

// A `Retry-After` value in seconds (delay-seconds form), or nullopt when absent or in another form.
std::optional<std::chrono::seconds> parseRetryAfter(std::string_view value);

// Percent-encodes a URL query component (RFC 3986 unreserved characters pass as they are).
std::string urlEncode(std::string_view text);

}  // namespace stackhouse::sinks::http
