#include "sinks/http/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <mutex>

#include "common/ascii.h"

namespace stackhouse::sinks::http {
namespace {

std::once_flag curlInitOnce;
bool curlInitOk = false;

struct Transfer {
  Response* response;
  uint64_t maxBody;
  uint32_t maxHeaderBytes;
  uint64_t headerBytes = 0;
  const std::atomic<bool>* cancelled;
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

size_t onHeader(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * count;
  std::string_view line = trim(std::string_view(data, n));
  if (line.starts_with("HTTP/")) {
    // A new answer begins (after a 100 Continue, say): only the final one's headers are kept.
    t->response->headers.clear();
    t->headerBytes = 0;
    return n;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return n;
  std::string_view name = trim(line.substr(0, colon));
  std::string_view value = trim(line.substr(colon + 1));
  if (t->headerBytes + name.size() + value.size() > t->maxHeaderBytes) return n;
  t->headerBytes += name.size() + value.size();
  t->response->headers.emplace_back(asciiLower(name), std::string(value));
  return n;
}

size_t onBody(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * count;
  std::string& body = t->response->body;
  uint64_t room = t->maxBody > body.size() ? t->maxBody - body.size() : 0;
  if (n > room) t->response->bodyTruncated = true;
  body.append(data, static_cast<size_t>(std::min<uint64_t>(n, room)));
  return n;
}

int onProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  return t->cancelled->load(std::memory_order_relaxed) ? 1 : 0;
}

TransportError classify(CURLcode code) {
  switch (code) {
    case CURLE_OK: return TransportError::kNone;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY: return TransportError::kDns;
    case CURLE_COULDNT_CONNECT: return TransportError::kConnectFailed;
    case CURLE_OPERATION_TIMEDOUT: return TransportError::kTimeout;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_USE_SSL_FAILED: return TransportError::kTls;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_HTTP3:
    case CURLE_WEIRD_SERVER_REPLY: return TransportError::kConnectionLost;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL: return TransportError::kBadUrl;
    case CURLE_ABORTED_BY_CALLBACK: return TransportError::kCancelled;
    default: return TransportError::kOther;
  }
}

struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

}  // namespace

struct Client::Impl {
  ClientOptions options;
  CURL* easy = nullptr;
  char errorBuffer[CURL_ERROR_SIZE] = {};
  ~Impl() {
    if (easy != nullptr) curl_easy_cleanup(easy);
  }
};

std::string_view transportErrorName(TransportError error) {
  switch (error) {
    case TransportError::kNone: return "none";
    case TransportError::kDns: return "dns";
    case TransportError::kConnectFailed: return "connect";
    case TransportError::kTimeout: return "timeout";
    case TransportError::kTls: return "tls";
    case TransportError::kConnectionLost: return "connection lost";
    case TransportError::kBadUrl: return "bad url";
    case TransportError::kCancelled: return "cancelled";
    case TransportError::kOther: return "other";
  }
  return "other";
}

std::string_view Response::header(std::string_view lowerName) const {
  for (const auto& [name, value] : headers) {
    if (name == lowerName) return value;
  }
  return {};
}

Result<std::unique_ptr<Client>> Client::create(const ClientOptions& options) {
  std::call_once(curlInitOnce,
                 [] { curlInitOk = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; });
  if (!curlInitOk) return internalError("libcurl failed to initialise");
  if (!options.caFile.empty()) {
    std::FILE* f = std::fopen(options.caFile.c_str(), "rb");
    if (f == nullptr) return invalidArgument("cannot read the CA file " + options.caFile);
    std::fclose(f);
  }
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->easy = curl_easy_init();
  if (impl->easy == nullptr) return internalError("libcurl could not create a handle");
  return std::unique_ptr<Client>(new Client(std::move(impl)));
}

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() = default;

Response Client::send(const Request& request) {
  Response response;
  CURL* h = impl_->easy;
  const ClientOptions& o = impl_->options;
  // Reset clears every option of the last request but keeps the connection cache (keep-alive),
  // so each request states all of its options and none leaks into the next.
  curl_easy_reset(h);
  impl_->errorBuffer[0] = '\0';
  Transfer transfer{&response, request.maxResponseBodyBytes, o.maxResponseHeaderBytes, 0,
                    &cancelled_};

  curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, impl_->errorBuffer);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(o.connectTimeout.count()));
  curl_easy_setopt(h, CURLOPT_USERAGENT, o.userAgent.c_str());
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, o.verifyPeer ? 1L : 0L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, o.verifyPeer ? 2L : 0L);
  if (!o.caFile.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, o.caFile.c_str());
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);

  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, onHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, onBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, onProgress);
  curl_easy_setopt(h, CURLOPT_XFERINFODATA, &transfer);

  Slist headers;
  auto addHeader = [&headers](const std::string& line) {
    curl_slist* next = curl_slist_append(headers.get(), line.c_str());
    if (next != nullptr) {
      (void)headers.release();
      headers.reset(next);
    }
  };
  for (const auto& [name, value] : request.headers) addHeader(name + ": " + value);
  // curl would add Expect: 100-continue to large bodies and wait up to a second for a server
  // that never answers 100; the services we talk to read the body anyway.
  addHeader("Expect:");
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());

  if (request.method == "GET") {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  } else if (request.method == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else {
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.empty() ? "" : request.body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    if (request.method != "POST")
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  if (request.basicAuth) {
    curl_easy_setopt(h, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
    curl_easy_setopt(h, CURLOPT_USERNAME, request.basicAuth->user.c_str());
    curl_easy_setopt(h, CURLOPT_PASSWORD, request.basicAuth->password.c_str());
  }

  CURLcode code = curl_easy_perform(h);
  long connects = 0;
  curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &connects);
  response.newConnection = connects > 0;
  if (code != CURLE_OK) {
    response.transportError = classify(code);
    response.transportMessage =
        impl_->errorBuffer[0] != '\0' ? impl_->errorBuffer : curl_easy_strerror(code);
    response.status = 0;
    response.headers.clear();
    response.body.clear();
    response.bodyTruncated = false;
    return response;
  }
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  response.status = static_cast<int>(status);
  return response;
}

std::optional<std::chrono::seconds> parseRetryAfter(std::string_view value) {
  value = trim(value);
  if (value.empty()) return std::nullopt;
  int64_t seconds = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec != std::errc() || end != value.data() + value.size() || seconds < 0) return std::nullopt;
  return std::chrono::seconds(seconds);
}

std::string urlEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (alnum || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace stackhouse::sinks::http
