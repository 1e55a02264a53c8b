// vendor-standin: the logs intakes of Tinybird (Events API) and Datadog (logs intake API v2) as one
// process, for tests that drive stackhouse from outside (the outage test: both vendors go down and
// come back).
//
//   vendor-standin --key ATTRIBUTE [--port N] [--tinybird-token T] [--datadog-key K]
//
// Prints one JSON line, {"port":N}, once it listens; runs until SIGTERM or SIGINT. It checks every
// request as the vendor documents it and answers 400 naming the problem (counted as a violation):
//   POST /v0/events?name=<data source>&wait=true   Authorization: Bearer <T>, gzip, NDJSON (every
//                                                  line a JSON object, newline-terminated), at most
//                                                  10 MB before gzip; answered 200
//   POST /api/v2/logs                              DD-API-KEY: <K>, gzip, application/json, a JSON
//                                                  array of 1..1000 objects (message a string,
//                                                  timestamp an integer, ddtags a string when
//                                                  present, each under 1 MB), under 5 MB; answered
//                                                  202
// Every row it accepts is counted by the value of ATTRIBUTE (a log attribute: Tinybird's
// `LogAttributes` map, Datadog's top-level attributes) and the row's `i` attribute, so a test can
// tell a row delivered twice from one never delivered. Besides the intakes (loopback, no
// authentication: a test tool):
//   POST /standin/down?seconds=S   down for S seconds (connections refused), then back on the same
//                                  port. Requests already being handled are answered first; from
//                                  the call on, requests are answered 503 until the port closes.
//   GET  /standin/delivered        {"tinybird": {"<value>": [rows, distinct i], ...},
//                                   "datadog": {...}, "requests": N, "violations": [...]}
#include <signal.h>
#include <simdjson.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/json_writer.h"
#include "http/server.h"
#include "sinks/http/compression.h"
#include "sinks/support/query_args.h"

namespace {

using stackhouse::Status;
namespace http = stackhouse::http;

constexpr uint64_t kTinybirdMaxBytes = 10'000'000;
constexpr uint64_t kDatadogMaxBytes = 5'000'000;

using stackhouse::sinks::testing::queryOf;

// "" when the header appears once with this value, else what is wrong.
std::string expectHeader(const http::Request& r, std::string_view lowerName,
                         std::string_view value) {
  size_t count = 0;
  for (const auto& [name, v] : r.headers) count += name == lowerName ? 1 : 0;
  if (count != 1) return std::string(lowerName) + " appears " + std::to_string(count) + " times";
  if (r.header(lowerName) != value) return std::string(lowerName) + " is not as expected";
  return "";
}

struct Tally {
  uint64_t rows = 0;
  std::set<int64_t> indexes;
};

class VendorStandin {
 public:
  VendorStandin(std::string key, std::string tinybirdToken, std::string datadogKey, uint16_t port)
      : key_(std::move(key)),
        tinybirdToken_(std::move(tinybirdToken)),
        datadogKey_(std::move(datadogKey)),
        port_(port) {}

  Status listen() {
    http::ServerOptions o;
    o.name = "vendor-standin";
    o.port = port_;
    o.threads = 2;
    o.maxBodyBytes = 64 << 20;
    auto server = http::Server::start(
        o, [this](http::Request&& r, http::Respond respond) { respond(handle(r)); });
    if (!server) return server.status();
    std::lock_guard lock(serverMu_);
    server_ = std::move(server.value());
    port_ = server_->port();
    return Status::ok();
  }

  void stop() {
    std::unique_ptr<http::Server> server;
    {
      std::lock_guard lock(serverMu_);
      server = std::move(server_);
    }
    if (server) server->stop(std::chrono::milliseconds(200));
  }

  Status restart() {
    Status s;
    for (int i = 0; i < 50; ++i) {  // the port was ours a moment ago
      s = listen();
      if (s.isOk()) return s;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return s;
  }

  uint16_t port() const { return port_; }

 private:
  http::Response handle(http::Request& r) {
    const std::string_view path = r.path();
    if (path == "/standin/down") return down(r);
    if (path == "/standin/delivered") return delivered();
    if (going_.load()) return http::jsonResponse(503, "{\"error\":\"going down\"}");
    if (path != "/v0/events" && path != "/api/v2/logs") {
      return http::jsonResponse(404, "{\"error\":\"no such path\"}");
    }
    const bool tinybird = path == "/v0/events";
    std::string body;
    std::string problem = decode(r, body);
    std::vector<std::pair<std::string, int64_t>> rows;
    if (problem.empty())
      problem = tinybird ? checkTinybird(r, body, rows) : checkDatadog(r, body, rows);
    std::lock_guard lock(mu_);
    ++requests_;
    if (!problem.empty()) {
      violations_.push_back((tinybird ? "tinybird: " : "datadog: ") + problem);
      std::string answer;
      stackhouse::JsonWriter w(answer);
      w.beginObject().key("error").value(problem).endObject();
      return http::jsonResponse(400, answer);
    }
    auto& tallies = tinybird ? tinybird_ : datadog_;
    for (auto& [value, index] : rows) {
      Tally& t = tallies[value];
      ++t.rows;
      t.indexes.insert(index);
    }
    if (tinybird) {
      return http::jsonResponse(
          200, "{\"successful_rows\":" + std::to_string(rows.size()) + ",\"quarantined_rows\":0}");
    }
    return http::jsonResponse(202, "{}");
  }

  static std::string decode(const http::Request& r, std::string& body) {
    if (r.method != "POST") return "method " + r.method;
    if (auto e = expectHeader(r, "content-encoding", "gzip"); !e.empty()) return e;
    const Status s = stackhouse::sinks::http::decompress(
        stackhouse::sinks::http::Compression::kGzip, r.body, 64 << 20, body);
    if (!s.isOk()) return "the body is not valid gzip: " + s.message();
    return "";
  }

  // The row's counted attribute and index, from an object of string attributes.
  std::string attributeOf(simdjson::dom::object attrs, std::string& value, int64_t& index) const {
    std::string_view v, i;
    if (attrs[key_].get(v) != simdjson::SUCCESS) return "a row without the " + key_ + " attribute";
    if (attrs["i"].get(i) != simdjson::SUCCESS) return "a row without the i attribute";
    if (std::from_chars(i.data(), i.data() + i.size(), index).ec != std::errc()) {
      return "a row whose i attribute is not a number";
    }
    value = std::string(v);
    return "";
  }

  std::string checkTinybird(const http::Request& r, const std::string& body,
                            std::vector<std::pair<std::string, int64_t>>& rows) const {
    const auto q = queryOf(r.target);
    if (q.count("name") == 0 || q.at("name").empty()) return "no name parameter";
    if (q.at("name") != "otel_logs") return "logs sent to data source " + q.at("name");
    if (q.count("wait") == 0 || q.at("wait") != "true") return "wait=true missing";
    if (q.size() != 2) return "unexpected query parameters";
    if (auto e = expectHeader(r, "authorization", "Bearer " + tinybirdToken_); !e.empty()) return e;
    if (body.size() > kTinybirdMaxBytes) return "a request over 10 MB";
    if (body.empty() || body.back() != '\n') return "NDJSON must end with a newline";
    simdjson::dom::parser parser;
    size_t start = 0;
    while (start < body.size()) {
      const size_t end = body.find('\n', start);
      simdjson::dom::object row;
      if (parser.parse(body.data() + start, end - start).get(row) != simdjson::SUCCESS) {
        return "a line is not a JSON object";
      }
      std::string_view ts, text;
      if (row["Timestamp"].get(ts) != simdjson::SUCCESS || ts.size() != 29) {
        return "Timestamp is not a DateTime64(9) text";
      }
      if (row["Body"].get(text) != simdjson::SUCCESS) return "Body is not a string";
      simdjson::dom::object attrs;
      if (row["LogAttributes"].get(attrs) != simdjson::SUCCESS)
        return "LogAttributes not an object";
      std::string value;
      int64_t index = 0;
      if (auto e = attributeOf(attrs, value, index); !e.empty()) return e;
      rows.emplace_back(std::move(value), index);
      start = end + 1;
    }
    return "";
  }

  std::string checkDatadog(const http::Request& r, const std::string& body,
                           std::vector<std::pair<std::string, int64_t>>& rows) const {
    if (auto e = expectHeader(r, "dd-api-key", datadogKey_); !e.empty()) return e;
    if (auto e = expectHeader(r, "content-type", "application/json"); !e.empty()) return e;
    if (body.size() >= kDatadogMaxBytes) return "a payload over 5 MB";
    simdjson::dom::parser parser;
    simdjson::dom::array entries;
    if (parser.parse(body).get(entries) != simdjson::SUCCESS) return "not a JSON array";
    if (entries.size() == 0 || entries.size() > 1000) {
      return std::to_string(entries.size()) + " entries";
    }
    for (auto entry : entries) {
      simdjson::dom::object log;
      if (entry.get(log) != simdjson::SUCCESS) return "an entry is not an object";
      if (simdjson::minify(log).size() > 1'000'000) return "an entry over 1 MB";
      std::string_view message, tags;
      if (log["message"].get(message) != simdjson::SUCCESS) return "message not a string";
      if (auto t = log["ddtags"];
          t.error() == simdjson::SUCCESS && t.get(tags) != simdjson::SUCCESS) {
        return "ddtags not a string";
      }
      int64_t ts = 0;
      if (log["timestamp"].get(ts) != simdjson::SUCCESS) return "timestamp not an integer";
      std::string value;
      int64_t index = 0;
      if (auto e = attributeOf(log, value, index); !e.empty()) return e;
      rows.emplace_back(std::move(value), index);
    }
    return "";
  }

  http::Response down(const http::Request& r) {
    const auto q = queryOf(r.target);
    int seconds = 1;
    if (auto it = q.find("seconds"); it != q.end()) {
      std::from_chars(it->second.data(), it->second.data() + it->second.size(), seconds);
    }
    going_.store(true);
    std::thread([this, seconds] {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      stop();
      std::this_thread::sleep_for(std::chrono::seconds(seconds));
      going_.store(false);
      if (Status s = restart(); !s.isOk()) {
        std::fprintf(stderr, "vendor-standin: restart failed: %s\n", s.toString().c_str());
      }
    }).detach();
    return http::textResponse(200, "ok\n");
  }

  http::Response delivered() const {
    std::string out;
    stackhouse::JsonWriter w(out);
    std::lock_guard lock(mu_);
    w.beginObject();
    for (const auto* part : {&tinybird_, &datadog_}) {
      w.key(part == &tinybird_ ? "tinybird" : "datadog").beginObject();
      for (const auto& [value, t] : *part) {
        w.key(value).beginArray().value(t.rows).value(static_cast<uint64_t>(t.indexes.size()));
        w.endArray();
      }
      w.endObject();
    }
    w.key("requests").value(requests_);
    w.key("violations").beginArray();
    for (const std::string& v : violations_) w.value(v);
    w.endArray().endObject();
    return http::jsonResponse(200, out);
  }

  const std::string key_, tinybirdToken_, datadogKey_;
  std::atomic<uint16_t> port_;
  std::atomic<bool> going_{false};
  std::mutex serverMu_;
  std::unique_ptr<http::Server> server_;
  mutable std::mutex mu_;
  std::map<std::string, Tally> tinybird_, datadog_;  // guarded by mu_
  uint64_t requests_ = 0;
  std::vector<std::string> violations_;
};

}  // namespace

int main(int argc, char** argv) {
  std::string key, tinybirdToken, datadogKey;
  uint16_t port = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string option = argv[i];
    const std::string value = argv[i + 1];
    if (option == "--key") {
      key = value;
    } else if (option == "--port") {
      port = static_cast<uint16_t>(std::atoi(value.c_str()));
    } else if (option == "--tinybird-token") {
      tinybirdToken = value;
    } else if (option == "--datadog-key") {
      datadogKey = value;
    } else {
      std::fprintf(stderr, "vendor-standin: unknown option %s\n", option.c_str());
      return 2;
    }
  }
  if (key.empty()) {
    std::fprintf(stderr,
                 "usage: vendor-standin --key ATTRIBUTE [--port N] [--tinybird-token T] "
                 "[--datadog-key K]\n");
    return 2;
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // before any thread starts: all inherit it
  VendorStandin standin(key, tinybirdToken, datadogKey, port);
  if (Status s = standin.listen(); !s.isOk()) {
    std::fprintf(stderr, "vendor-standin: %s\n", s.toString().c_str());
    return 1;
  }
  std::printf("{\"port\":%u}\n", standin.port());
  std::fflush(stdout);
  int received = 0;
  sigwait(&signals, &received);
  standin.stop();
  std::fflush(stdout);
  // A /standin/down thread may still be sleeping: leave without unwinding what it uses.
  std::_Exit(0);
}
