#include "app/sql_command.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <simdjson.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <vector>

#include "app/read_only_store.h"
#include "app/remote_query.h"
#include "common/json_writer.h"
#include "common/utf8.h"
#include "query/sql_api.h"

namespace stackhouse::app {

namespace {

// The connection to the server's own listener, plain or TLS. Over TLS the certificate must be
// the one the configuration names (it is the trust anchor, so a self-signed one works too); the
// name in it is not checked: the address is the configured one.
class CliConnection {
 public:
  CliConnection(int fd, const config::UiTlsConfig& tls) : fd_(fd) {
    if (!tls.enabled()) return;
    ctx_ = SSL_CTX_new(TLS_client_method());
    ok_ = ctx_ != nullptr && SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION) == 1 &&
          SSL_CTX_load_verify_locations(ctx_, tls.certFile.c_str(), nullptr) == 1;
    if (ok_) {
      X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(ctx_), X509_V_FLAG_PARTIAL_CHAIN);
      SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
      ssl_ = SSL_new(ctx_);
      ok_ = ssl_ != nullptr && SSL_set_fd(ssl_, fd_) == 1 && SSL_connect(ssl_) == 1;
    }
  }
  ~CliConnection() {
    if (ssl_ != nullptr) {
      SSL_shutdown(ssl_);
      SSL_free(ssl_);
    }
    if (ctx_ != nullptr) SSL_CTX_free(ctx_);
    close(fd_);
  }
  CliConnection(const CliConnection&) = delete;
  CliConnection& operator=(const CliConnection&) = delete;

  bool ok() const { return ok_; }
  ssize_t write(const char* data, size_t size) {
    if (ssl_ == nullptr) return ::write(fd_, data, size);
    const int n = SSL_write(ssl_, data, static_cast<int>(size));
    return n > 0 ? n : -1;
  }
  ssize_t read(char* data, size_t size) {
    if (ssl_ == nullptr) return ::read(fd_, data, size);
    const int n = SSL_read(ssl_, data, static_cast<int>(size));
    return n > 0 ? n : 0;
  }

 private:
  int fd_;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  bool ok_ = true;
};

// A minimal HTTP/1.1 POST over loopback; returns false when nothing listens.
bool postJson(const config::Endpoint& endpoint, const config::UiTlsConfig& tls,
              const std::string& apiKey, const std::string& body, int& status, std::string& reply) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(endpoint.port);
  const std::string host =
      endpoint.host == "localhost" || endpoint.host == "0.0.0.0" ? "127.0.0.1" : endpoint.host;
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1 ||
      connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return false;
  }
  CliConnection connection(fd, tls);
  if (!connection.ok()) return false;
  std::string request =
      "POST /api/v1/sql HTTP/1.1\r\nHost: " + host +
      (apiKey.empty() ? std::string() : "\r\nAuthorization: Bearer " + apiKey) +
      "\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body;
  size_t off = 0;
  while (off < request.size()) {
    const ssize_t n = connection.write(request.data() + off, request.size() - off);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  std::string raw;
  char buf[65536];
  ssize_t n;
  while ((n = connection.read(buf, sizeof buf)) > 0) raw.append(buf, static_cast<size_t>(n));
  const auto headerEnd = raw.find("\r\n\r\n");
  if (raw.compare(0, 9, "HTTP/1.1 ") != 0 || headerEnd == std::string::npos) return false;
  status = std::atoi(raw.c_str() + 9);
  reply = raw.substr(headerEnd + 4);
  return true;
}

// The key `stackhouse run` writes for us into the data directory (mode 0600), or "" when there is
// none (the server is not running, or we may not read it: then the API answers 401).
std::string cliApiKey(const config::Config& config) {
  std::FILE* f = std::fopen((config.clickstack.dataDir + "/cli-api-key").c_str(), "rb");
  if (f == nullptr) return {};
  char buf[256];
  const size_t n = std::fread(buf, 1, sizeof buf, f);
  std::fclose(f);
  std::string key(buf, n);
  while (!key.empty() && (key.back() == '\n' || key.back() == '\r')) key.pop_back();
  return key;
}

// Display width in code points (close enough for a terminal table of telemetry).
size_t width(std::string_view s) {
  size_t w = 0;
  for (size_t i = 0; i < s.size();) {
    const size_t len = utf8SequenceLength(s.substr(i));
    i += len == 0 ? 1 : len;
    ++w;
  }
  return w;
}

std::string cellText(simdjson::dom::element v) {
  std::string_view s;
  if (v.get_string().get(s) == simdjson::SUCCESS) {
    std::string out;
    for (char c : s) {
      if (c == '\n')
        out += "\\n";
      else if (c == '\t')
        out += "\\t";
      else
        out += c;
    }
    return out;
  }
  if (v.is_null()) return "NULL";
  return simdjson::minify(v);
}

}  // namespace

std::string formatTable(const std::string& apiJson) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(apiJson).get(root) != simdjson::SUCCESS) return apiJson + "\n";
  simdjson::dom::array columns, rows;
  if (root["columns"].get_array().get(columns) != simdjson::SUCCESS ||
      root["rows"].get_array().get(rows) != simdjson::SUCCESS) {
    return apiJson + "\n";
  }
  std::vector<std::vector<std::string>> table;
  std::vector<std::string> header;
  for (auto c : columns) {
    std::string_view name;
    if (c["name"].get_string().get(name) != simdjson::SUCCESS) name = "?";
    header.emplace_back(name);
  }
  table.push_back(header);
  for (auto row : rows) {
    std::vector<std::string> cells;
    simdjson::dom::array values;
    if (row.get_array().get(values) != simdjson::SUCCESS) continue;
    for (auto v : values) cells.push_back(cellText(v));
    cells.resize(header.size());
    table.push_back(std::move(cells));
  }
  std::vector<size_t> widths(header.size(), 0);
  for (const auto& r : table) {
    for (size_t i = 0; i < r.size(); ++i) widths[i] = std::max(widths[i], width(r[i]));
  }
  std::string out;
  auto line = [&](const std::vector<std::string>& r) {
    for (size_t i = 0; i < r.size(); ++i) {
      if (i > 0) out += "  ";
      out += r[i];
      if (i + 1 < r.size()) out.append(widths[i] - width(r[i]), ' ');
    }
    out += '\n';
  };
  line(table[0]);
  std::vector<std::string> rule;
  for (size_t w : widths) rule.emplace_back(w, '-');
  line(rule);
  for (size_t i = 1; i < table.size(); ++i) line(table[i]);
  out += "(" + std::to_string(table.size() - 1) + (table.size() == 2 ? " row)\n" : " rows)\n");
  return out;
}

Result<std::string> querySqlJson(const config::Config& config, const std::string& sql,
                                 std::unique_ptr<store::ChdbStore>* openStore,
                                 std::string_view command) {
  std::string body;
  JsonWriter w(body);
  w.beginObject().field("query", sql).endObject();
  int status = 0;
  std::string reply;
  if ((openStore != nullptr && *openStore) ||
      !postJson(config.clickstack.hyperdx.listen, config.clickstack.hyperdx.tls, cliApiKey(config),
                body, status, reply)) {
    // Nothing listens: read the data directory itself, read-only.
    std::unique_ptr<store::ChdbStore> local;
    std::unique_ptr<store::ChdbStore>& store = openStore != nullptr ? *openStore : local;
    if (!store) {
      auto opened = openStoreReadOnly(config, command, config.clickstack.hyperdx.listen.toString());
      if (!opened) return opened.status();
      store = std::move(opened.value());
    }
    // With a remote ClickHouse the telemetry is there, not in the embedded engine: the query is
    // checked here and runs there, as the query API runs it.
    auto r = config.otelConfig.exporters.clickhouse.remote() ? runOnRemote(config, *store, sql)
                                                             : query::runSql(*store, sql, {});
    status = r.httpStatus;
    reply = std::move(r.json);
  }
  if (status != 200) return invalidArgument(reply);
  return reply;
}

int runSqlCommand(const config::Config& config, const std::string& sql, bool json) {
  auto reply = querySqlJson(config, sql, nullptr, "sql");
  if (!reply) {
    std::fprintf(stderr, "stackhouse sql: %s\n", reply.status().message().c_str());
    return 1;
  }
  const std::string out = json ? reply.value() + "\n" : formatTable(reply.value());
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

}  // namespace stackhouse::app
