#include "store/clickhouse_http_executor.h"

#include <charconv>

#include "sinks/http/http_client.h"

namespace stackhouse::store {

namespace {

namespace http = sinks::http;

Status failed(EngineError& last, StatusCode code, std::string name, std::string message) {
  last = EngineError{0, std::move(name), std::move(message)};
  return Status(code, last.message);
}

}  // namespace

Result<std::unique_ptr<ClickhouseHttpExecutor>> ClickhouseHttpExecutor::create(
    ClickhouseHttpOptions options) {
  if (!options.endpoint.starts_with("http://") && !options.endpoint.starts_with("https://")) {
    return Status(StatusCode::kInvalidArgument,
                  "the remote ClickHouse endpoint must start with http:// or https://");
  }
  while (options.endpoint.ends_with('/')) options.endpoint.pop_back();
  http::ClientOptions clientOptions;
  clientOptions.caFile = options.caFile;
  clientOptions.verifyPeer = options.verifyPeer;
  auto client = http::Client::create(clientOptions);
  if (!client) return client.status();
  return std::unique_ptr<ClickhouseHttpExecutor>(
      new ClickhouseHttpExecutor(std::move(options), std::move(client.value())));
}

ClickhouseHttpExecutor::ClickhouseHttpExecutor(ClickhouseHttpOptions options,
                                               std::unique_ptr<http::Client> client)
    : options_(std::move(options)), client_(std::move(client)) {}

ClickhouseHttpExecutor::~ClickhouseHttpExecutor() = default;

std::string ClickhouseHttpExecutor::killStatement(std::string_view queryId) const {
  // The id is ours (letters, digits, '-').
  return "KILL QUERY WHERE query_id = '" + std::string(queryId) + "' ASYNC";
}

Result<QueryOutput> ClickhouseHttpExecutor::run(std::string_view sql, std::string_view format,
                                                const QueryParams& params,
                                                std::string_view queryId) {
  lastError_ = {};
  std::string url = options_.endpoint + "/?";
  bool first = true;
  auto param = [&](std::string_view key, std::string_view value) {
    if (!first) url += '&';
    first = false;
    url.append(http::urlEncode(key)).append("=").append(http::urlEncode(value));
  };
  const QueryBounds& b = options_.bounds;
  param("database", options_.database);
  param("default_format", format);
  if (!queryId.empty()) param("query_id", queryId);
  if (options_.control) {
    param("max_execution_time", "10");
  } else {
    param("output_format_json_quote_64bit_integers", "1");
    param("output_format_json_quote_denormals", "1");
    param("max_execution_time", std::to_string(b.maxExecutionSeconds));
    param("timeout_overflow_mode", "throw");
    param("max_memory_usage", std::to_string(b.maxMemoryBytes));
    param("max_result_bytes", std::to_string(b.maxResultBytes));
    param("result_overflow_mode", "throw");
    param("max_query_size", std::to_string(b.maxQueryBytes));
    param("cancel_http_readonly_queries_on_client_close", "1");
    param("readonly", "1");
  }
  for (const auto& [name, value] : params) param("param_" + name, value);

  http::Request request;
  request.method = "POST";
  request.url = std::move(url);
  request.body = sql;
  request.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
  request.headers.emplace_back("X-ClickHouse-User", options_.username);
  if (!options_.password.empty()) {
    request.headers.emplace_back("X-ClickHouse-Key", options_.password);
  }
  const uint64_t seconds = options_.control ? 10 : b.maxExecutionSeconds;
  request.timeout = std::chrono::milliseconds((seconds + 10) * 1000);
  request.maxResponseBodyBytes = options_.maxResponseBytes;

  const auto start = std::chrono::steady_clock::now();
  http::Response response = client_->send(request);
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  if (!response.answered()) {
    return failed(lastError_, StatusCode::kUnavailable, "UNAVAILABLE",
                  "the remote ClickHouse did not answer (" +
                      std::string(http::transportErrorName(response.transportError)) +
                      "): " + response.transportMessage);
  }
  if (response.status != 200) {
    EngineError e = parseEngineError(response.body);
    if (const std::string_view code = response.header("x-clickhouse-exception-code");
        !code.empty()) {
      int n = 0;
      if (std::from_chars(code.data(), code.data() + code.size(), n).ec == std::errc()) e.code = n;
    }
    if (e.message.empty()) {
      e.message = "the remote ClickHouse answered HTTP " + std::to_string(response.status);
    }
    lastError_ = e;
    if (e.code == 0) {
      return Status(response.status >= 500 ? StatusCode::kUnavailable : StatusCode::kInternal,
                    e.message);
    }
    return toStatus(e);
  }
  if (response.bodyTruncated) {
    return failed(lastError_, StatusCode::kResourceExhausted, "RESULT_TOO_LARGE",
                  "the remote ClickHouse's answer is larger than " +
                      std::to_string(options_.maxResponseBytes) + " bytes");
  }
  QueryOutput out;
  out.data = std::move(response.body);
  out.elapsedSeconds = elapsed.count();
  return out;
}

}  // namespace stackhouse::store
