#include "sinks/clickhouse/clickhouse_standin.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <map>
#include <thread>

#include "common/ascii.h"
#include "common/json_writer.h"
#include "sinks/http/compression.h"
#include "store/store_error.h"

namespace stackhouse::testing {
namespace {

constexpr uint64_t kMaxBodyBytes = 512ull << 20;

std::string urlDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      unsigned value = 0;
      auto [end, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, value, 16);
      if (ec == std::errc() && end == s.data() + i + 3) {
        out.push_back(static_cast<char>(value));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> queryParams(std::string_view target) {
  std::vector<std::pair<std::string, std::string>> out;
  const size_t q = target.find('?');
  if (q == std::string_view::npos) return out;
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    const size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    out.emplace_back(urlDecode(pair.substr(0, eq)),
                     eq == std::string_view::npos ? "" : urlDecode(pair.substr(eq + 1)));
  }
  return out;
}

std::string base64Decode(std::string_view in) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  int bits = 0, acc = 0;
  for (char c : in) {
    const int v = value(c);
    if (v < 0) break;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\n' || s.front() == '\t' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\t' ||
                        s.back() == '\r' || s.back() == ';'))
    s.remove_suffix(1);
  return s;
}

std::string firstWord(std::string_view sql) {
  sql = trim(sql);
  size_t end = 0;
  while (end < sql.size() && sql[end] != ' ' && sql[end] != '\n' && sql[end] != '(') ++end;
  return asciiLower(sql.substr(0, end));
}

// ClickHouse's HTTP status for an error code (the codes stackhouse meets; the rest 500).
int httpStatusOf(int code) {
  switch (code) {
    case 192:  // UNKNOWN_USER
    case 193:  // WRONG_PASSWORD
    case 194:  // REQUIRED_PASSWORD
    case 516:  // AUTHENTICATION_FAILED
    case 164:  // READONLY
    case 497:  // ACCESS_DENIED
      return 403;
    case 60:  // UNKNOWN_TABLE
    case 81:  // UNKNOWN_DATABASE
      return 404;
    case 6:
    case 27:
    case 33:
    case 36:
    case 41:
    case 53:
    case 62:
    case 69:
    case 70:
    case 115:
    case 117: return 400;
    default: return 500;
  }
}

http::Response engineError(int httpStatus, int code, std::string_view name,
                           std::string_view message) {
  http::Response r;
  r.status = httpStatus;
  r.contentType = "text/plain; charset=UTF-8";
  r.body = "Code: " + std::to_string(code) + ". DB::Exception: " + std::string(message) + ". (" +
           std::string(name) + ") (version 26.5.3.1 (stackhouse stand-in))\n";
  r.headers.emplace_back("X-ClickHouse-Exception-Code", std::to_string(code));
  return r;
}

http::Response engineError(int code, std::string_view name, std::string_view message) {
  return engineError(httpStatusOf(code), code, name, message);
}

// A trailing `FORMAT <name>` clause: its start and the name, or npos.
size_t formatClause(std::string_view sql, std::string& name) {
  const std::string lower = asciiLower(sql);
  size_t at = lower.rfind("format ");
  if (at == std::string::npos ||
      (at > 0 && lower[at - 1] != ' ' && lower[at - 1] != '\n' && lower[at - 1] != ')'))
    return std::string::npos;
  std::string_view rest = trim(sql.substr(at + 7));
  for (char c : rest) {
    const bool word =
        (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!word) return std::string::npos;
  }
  if (rest.empty()) return std::string::npos;
  name = rest;
  return at;
}

// Where an INSERT's SETTINGS clause goes (after the target and its column list), and the target.
bool insertHead(std::string_view sql, size_t& headEnd, std::string& target) {
  const std::string lower = asciiLower(sql);
  size_t pos = lower.find("insert into ");
  if (pos == std::string::npos) return false;
  pos += 12;
  if (lower.compare(pos, 6, "table ") == 0) pos += 6;
  while (pos < sql.size() && sql[pos] == ' ') ++pos;
  const size_t start = pos;
  while (pos < sql.size() && sql[pos] != ' ' && sql[pos] != '(' && sql[pos] != '\n') ++pos;
  target = sql.substr(start, pos - start);
  while (pos < sql.size() && (sql[pos] == ' ' || sql[pos] == '\n')) ++pos;
  if (pos < sql.size() && sql[pos] == '(') {
    int depth = 0;
    for (; pos < sql.size(); ++pos) {
      if (sql[pos] == '(') ++depth;
      if (sql[pos] == ')' && --depth == 0) break;
    }
    if (pos == sql.size()) return false;
    ++pos;
  }
  headEnd = pos;
  return true;
}

std::string quoteLiteral(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "'";
}

}  // namespace

Result<std::unique_ptr<ClickhouseStandin>> ClickhouseStandin::start(StandinOptions options) {
  std::unique_ptr<ClickhouseStandin> s(new ClickhouseStandin(std::move(options)));
  auto conn = store::ChdbConnection::open(s->options_.dataPath);
  if (!conn) return conn.status();
  s->conn_ = std::move(conn.value());
  auto names = s->conn_->query("SELECT name FROM system.settings");
  if (!names) return names.status();
  std::string_view rest = names->data;
  while (!rest.empty()) {
    const size_t nl = rest.find('\n');
    s->settingNames_.emplace(rest.substr(0, nl));
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
  }
  STACKHOUSE_RETURN_IF_ERROR(s->listen());
  return s;
}

ClickhouseStandin::~ClickhouseStandin() { stop(); }

Status ClickhouseStandin::listen() {
  http::ServerOptions o;
  o.name = "standin";
  o.port = port_ != 0 ? port_ : options_.port;
  o.threads = 4;
  o.maxBodyBytes = kMaxBodyBytes;
  auto server = http::Server::start(
      o, [this](http::Request&& r, http::Respond respond) { handle(std::move(r), respond); });
  if (!server) return server.status();
  server_ = std::move(server.value());
  port_ = server_->port();
  return Status::ok();
}

void ClickhouseStandin::stop() {
  std::unique_ptr<http::Server> server;
  {
    std::lock_guard lock(mu_);
    server = std::move(server_);
  }
  if (server) server->stop();
}

Status ClickhouseStandin::restart() {
  std::lock_guard lock(mu_);
  if (server_) return Status::ok();
  // The port was ours a moment ago; retry briefly while the kernel lets go of it.
  Status s;
  for (int i = 0; i < 50; ++i) {
    s = listen();
    if (s.isOk()) return s;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return s;
}

void ClickhouseStandin::failNext(int count, int httpStatus, int code, std::string name,
                                 std::string message) {
  std::lock_guard lock(mu_);
  failCount_ = count;
  failure_ = {httpStatus, code, std::move(name), std::move(message)};
}

void ClickhouseStandin::delayNext(int count, std::chrono::milliseconds delay) {
  std::lock_guard lock(mu_);
  delayCount_ = count;
  delay_ = delay;
}

std::vector<std::string> ClickhouseStandin::executed() const {
  std::lock_guard lock(mu_);
  return executed_;
}

Result<std::string> ClickhouseStandin::query(const std::string& sql) {
  std::lock_guard lock(mu_);
  auto r = conn_->query(sql);
  if (!r) return r.status();
  return std::move(r->data);
}

void ClickhouseStandin::handle(http::Request&& request, http::Respond respond) {
  if (options_.control && request.path().starts_with("/standin/")) {
    respond(control(request));
    return;
  }
  std::chrono::milliseconds delay{0};
  http::Response response = execute(request);
  {
    std::lock_guard lock(mu_);
    if (delayCount_ > 0 && response.status == 200) {
      --delayCount_;
      delay = delay_;
    }
  }
  if (delay.count() == 0) {
    respond(std::move(response));
    return;
  }
  std::thread([delay, respond = std::move(respond), response = std::move(response)]() mutable {
    std::this_thread::sleep_for(delay);
    respond(std::move(response));
  }).detach();
}

http::Response ClickhouseStandin::control(const http::Request& request) {
  std::map<std::string, std::string> p;
  for (auto& [k, v] : queryParams(request.target)) p[k] = v;
  auto number = [&](const std::string& key, int fallback) {
    auto it = p.find(key);
    if (it == p.end()) return fallback;
    int v = fallback;
    std::from_chars(it->second.data(), it->second.data() + it->second.size(), v);
    return v;
  };
  const std::string_view path = request.path();
  if (path == "/standin/fail") {
    failNext(number("count", 1), number("status", 500), number("code", 0), p["name"], p["message"]);
  } else if (path == "/standin/delay") {
    delayNext(number("count", 1), std::chrono::milliseconds(number("ms", 0)));
  } else if (path == "/standin/down") {
    // Down for `seconds`, then back on the same port (the answer goes out first).
    const int seconds = number("seconds", 1);
    std::thread([this, seconds] {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      stop();
      std::this_thread::sleep_for(std::chrono::seconds(seconds));
      Status s = restart();
      if (!s.isOk()) std::fprintf(stderr, "stand-in restart failed: %s\n", s.toString().c_str());
    }).detach();
  } else if (path == "/standin/stats") {
    return http::jsonResponse(200, "{\"statements\":" + std::to_string(statementsRun()) + "}");
  } else if (path == "/standin/executed") {
    // Every statement run, as run (the JSON array of their texts).
    std::string json;
    JsonWriter w(json);
    w.beginArray();
    for (const std::string& sql : executed()) w.value(std::string_view(sql));
    w.endArray();
    return http::jsonResponse(200, std::move(json));
  } else {
    return http::textResponse(404, "no such control\n");
  }
  return http::textResponse(200, "ok\n");
}

http::Response ClickhouseStandin::execute(http::Request& request) {
  const std::string_view path = request.path();
  if (path == "/ping") return http::textResponse(200, "Ok.\n");
  if (path != "/") {
    return engineError(404, 0, "UNKNOWN", "There is no handle " + std::string(path));
  }
  if (request.method != "GET" && request.method != "POST") {
    return engineError(405, 0, "UNKNOWN", "Unsupported method " + request.method);
  }

  // Parameters: the reserved ones, query parameters, and every other one a setting.
  std::string sql;
  bool haveQueryParam = false;
  std::string format = "TabSeparated";
  std::string queryId;
  std::string database = "default";
  std::optional<std::string> paramUser, paramPassword;
  store::QueryParams queryParameters;
  std::vector<std::pair<std::string, std::string>> settings;
  for (auto& [key, value] : queryParams(request.target)) {
    if (key == "query") {
      sql = value;
      haveQueryParam = true;
    } else if (key == "default_format") {
      format = value;
    } else if (key == "query_id") {
      queryId = value;
    } else if (key == "user") {
      paramUser = value;
    } else if (key == "password") {
      paramPassword = value;
    } else if (key == "database") {
      // The current database of the statement (ClickHouse: the session's default database).
      bool identifier = !value.empty();
      for (char c : value) {
        identifier = identifier && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
      }
      if (!identifier) {
        return engineError(81, "UNKNOWN_DATABASE", "Database " + value + " does not exist");
      }
      database = value;
    } else if (key == "quota_key" || key == "buffer_size" || key == "wait_end_of_query") {
      // Accepted; answers are not streamed.
    } else if (key == "compress" || key == "decompress") {
      if (value != "0") {
        return engineError(1, "UNSUPPORTED_METHOD",
                           key +
                               "=1 (ClickHouse's own block compression) is not implemented by "
                               "the stand-in; use Content-Encoding");
      }
    } else if (key == "session_id" || key == "session_timeout" || key == "session_check") {
      return engineError(1, "UNSUPPORTED_METHOD", "sessions are not implemented by the stand-in");
    } else if (key.starts_with("param_")) {
      queryParameters.emplace_back(key.substr(6), value);
    } else {
      if (!settingNames_.contains(key)) {
        return engineError(115, "UNKNOWN_SETTING",
                           "Setting " + key +
                               " is neither a builtin setting nor started with the "
                               "prefix 'custom_' registered for user-defined settings");
      }
      settings.emplace_back(key, value);
    }
  }

  // Authentication: one way only.
  const std::string_view headerUser = request.header("x-clickhouse-user");
  const std::string_view headerKey = request.header("x-clickhouse-key");
  const std::string_view authorization = request.header("authorization");
  const int ways = (!headerUser.empty() || !headerKey.empty() ? 1 : 0) +
                   (!authorization.empty() ? 1 : 0) + (paramUser || paramPassword ? 1 : 0);
  if (ways > 1) {
    return engineError(400, 194, "REQUIRED_PASSWORD",
                       "Invalid authentication: it is not allowed to use more than one "
                       "authentication method at once");
  }
  std::string user = "default", password;
  if (!headerUser.empty() || !headerKey.empty()) {
    user = headerUser.empty() ? "default" : std::string(headerUser);
    password = headerKey;
  } else if (!authorization.empty()) {
    if (!authorization.starts_with("Basic ")) {
      return engineError(403, 516, "AUTHENTICATION_FAILED", "unsupported authorization scheme");
    }
    const std::string decoded = base64Decode(authorization.substr(6));
    const size_t colon = decoded.find(':');
    user = decoded.substr(0, colon);
    password = colon == std::string::npos ? "" : decoded.substr(colon + 1);
  } else if (paramUser || paramPassword) {
    user = paramUser.value_or("default");
    password = paramPassword.value_or("");
  }
  if (user != options_.user || password != options_.password) {
    return engineError(516, "AUTHENTICATION_FAILED",
                       user +
                           ": Authentication failed: password is incorrect, or there is no "
                           "user with such name");
  }

  // The body, decoded.
  std::string body;
  const std::string encoding = asciiLower(request.header("content-encoding"));
  if (encoding.empty() || encoding == "identity") {
    body = std::move(request.body);
  } else {
    std::optional<sinks::http::Compression> c;
    if (encoding == "gzip" || encoding == "x-gzip" || encoding == "deflate") {
      c = sinks::http::Compression::kGzip;
    } else if (encoding == "zstd") {
      c = sinks::http::Compression::kZstd;
    }
    if (!c) {
      return engineError(1, "UNSUPPORTED_METHOD", "Unknown Content-Encoding: " + encoding);
    }
    Status s = sinks::http::decompress(*c, request.body, kMaxBodyBytes, body);
    if (!s.isOk()) return engineError(271, "CANNOT_DECOMPRESS", s.message());
  }

  // The query and the rows.
  std::string data;
  if (haveQueryParam) {
    if (firstWord(sql) == "insert") {
      data = std::move(body);
    } else if (!body.empty()) {
      sql += "\n" + body;  // as ClickHouse: the query continues in the body
    }
  } else {
    if (request.method == "GET" || body.empty())
      return engineError(62, "SYNTAX_ERROR", "Empty query");
    sql = std::move(body);
    if (firstWord(sql) == "insert") {
      // INSERT ... FORMAT <f>\n<rows>: the rows start after the format name's line.
      const std::string lower = asciiLower(sql);
      const size_t f = lower.find(" format ");
      if (f != std::string::npos) {
        const size_t nl = sql.find('\n', f);
        if (nl != std::string::npos) {
          data = sql.substr(nl + 1);
          sql.resize(nl);
        }
      }
    }
  }
  const std::string verb = firstWord(sql);
  if (request.method == "GET" && verb != "select" && verb != "with" && verb != "show" &&
      verb != "describe" && verb != "desc" && verb != "exists" && verb != "explain") {
    return engineError(164, "READONLY",
                       "Cannot execute query in readonly mode. For queries over HTTP, method GET "
                       "implies readonly. You should use method POST for modifying queries");
  }

  std::lock_guard lock(mu_);
  if (failCount_ > 0) {
    --failCount_;
    return engineError(failure_.httpStatus, failure_.code, failure_.name, failure_.message);
  }

  std::string settingsClause;
  for (const auto& [key, value] : settings) {
    settingsClause += settingsClause.empty() ? " SETTINGS " : ", ";
    settingsClause += key + " = " + quoteLiteral(value);
  }
  std::string file;
  std::string run = std::string(trim(sql));
  if (verb == "insert") {
    size_t headEnd = 0;
    std::string target;
    if (!insertHead(run, headEnd, target)) {
      return engineError(62, "SYNTAX_ERROR", "cannot read the INSERT's target");
    }
    if (target.find('.') == std::string::npos) {
      return engineError(60, "UNKNOWN_TABLE",
                         "the stand-in runs only qualified INSERT targets (db.table): " + target);
    }
    std::string fmt;
    const size_t formatAt = formatClause(run, fmt);
    if (!data.empty() || formatAt != std::string::npos) {
      if (formatAt == std::string::npos) {
        return engineError(62, "SYNTAX_ERROR", "an INSERT with rows needs a FORMAT clause");
      }
      file = options_.tempDir + "/standin-" + std::to_string(::getpid()) + "-" +
             std::to_string(++fileSeq_) + "." + fmt;
      std::ofstream(file, std::ios::binary) << data;
      std::string head = run.substr(0, headEnd);
      std::string rest =
          std::string(trim(std::string_view(run).substr(headEnd, formatAt - headEnd)));
      if (const size_t input = asciiLower(rest).find("input('"); input != std::string::npos) {
        rest.replace(input, 7, "file('" + file + "', '" + fmt + "', '");
        run = head + settingsClause + " " + rest;
      } else if (rest.empty()) {
        run = head + " FROM INFILE '" + file + "'" + settingsClause + " FORMAT " + fmt;
      } else {
        std::remove(file.c_str());
        return engineError(62, "SYNTAX_ERROR", "rows were sent but the INSERT does not read them");
      }
    } else {
      run = run.substr(0, headEnd) + settingsClause + run.substr(headEnd);
    }
  } else if (verb == "select" || verb == "with") {
    std::string fmt;
    const size_t formatAt = formatClause(run, fmt);
    if (formatAt != std::string::npos) {
      run = std::string(trim(std::string_view(run).substr(0, formatAt))) + settingsClause +
            " FORMAT " + fmt;
    } else {
      run += settingsClause;
    }
  }

  // Each statement in its request's database: unqualified names resolve there, as in ClickHouse.
  if (auto use = conn_->query("USE " + database); !use) {
    if (!file.empty()) std::remove(file.c_str());
    const store::EngineError& e = conn_->lastError();
    return engineError(e.code == 0 ? 81 : e.code, e.name.empty() ? "UNKNOWN_DATABASE" : e.name,
                       e.message);
  }
  executed_.push_back(run);
  statementsRun_.fetch_add(1);
  auto result = conn_->query(run, format, queryParameters);
  if (!file.empty()) std::remove(file.c_str());
  if (!result) {
    const store::EngineError& e = conn_->lastError();
    if (e.code == 0) return engineError(500, 1001, "STD_EXCEPTION", result.status().message());
    return engineError(e.code, e.name, e.message);
  }
  http::Response r;
  r.status = 200;
  r.contentType = "text/tab-separated-values; charset=UTF-8";
  r.body = std::move(result->data);
  r.headers.emplace_back("X-ClickHouse-Query-Id", queryId.empty() ? "standin" : queryId);
  r.headers.emplace_back("X-ClickHouse-Format", format);
  r.headers.emplace_back("X-ClickHouse-Summary",
                         "{\"read_rows\":\"" + std::to_string(result->rowsRead) +
                             "\",\"read_bytes\":\"" + std::to_string(result->bytesRead) + "\"}");
  return r;
}

}  // namespace stackhouse::testing
