#include "store/chdb_connection.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <utility>

#include "store/chdb_api.h"

namespace stackhouse::store {

namespace {
chdb_connection conn(void* handle) { return *static_cast<chdb_connection*>(handle); }

// The engine configuration of a read-only open (ConnectOptions::readOnly): global MergeTree
// settings, which every table's own SETTINGS override but none of ours sets. No part is small
// enough to merge, and that covers TTL drops too (measured: 35 parts with every row past the TTL
// all stayed for 20 s, where without this configuration they went within seconds); outdated
// parts, temporary directories and empty parts are kept. `--readonly=1` on the engine's command
// line does neither (measured: getSetting('readonly') is 0 on its connections, and parts merge).
constexpr std::string_view kReadOnlyConfig = R"(<clickhouse>
  <merge_tree>
    <max_bytes_to_merge_at_max_space_in_pool>1</max_bytes_to_merge_at_max_space_in_pool>
    <max_bytes_to_merge_at_min_space_in_pool>1</max_bytes_to_merge_at_min_space_in_pool>
    <old_parts_lifetime>4000000000</old_parts_lifetime>
    <temporary_directories_lifetime>4000000000</temporary_directories_lifetime>
    <remove_empty_parts>0</remove_empty_parts>
  </merge_tree>
</clickhouse>
)";

// A file descriptor closed when it goes out of scope.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

bool writeAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

std::string readAllFrom(int fd) {
  std::string out;
  char buf[4096];
  off_t at = 0;
  ssize_t n;
  while (out.size() < (64 << 10) && (n = ::pread(fd, buf, sizeof buf, at)) > 0) {
    out.append(buf, static_cast<size_t>(n));
    at += n;
  }
  return out;
}

// Runs chdb_connect with the process's stderr going to a memory file, and returns what the
// engine wrote there: when the directory is locked, ClickHouse prints its exception on stderr
// before chdb_connect fails, and that is not for the user's terminal.
chdb_connection* connectCapturingStderr(int argc, char** argv, std::string& engineOutput) {
  const Fd capture(::memfd_create("stackhouse-engine-stderr", MFD_CLOEXEC));
  const Fd saved(capture.get() >= 0 ? ::dup(STDERR_FILENO) : -1);
  if (saved.get() < 0) return chdb_connect(argc, argv);  // nothing to capture with: as is
  std::fflush(stderr);
  ::dup2(capture.get(), STDERR_FILENO);
  chdb_connection* handle = chdb_connect(argc, argv);
  std::fflush(stderr);
  ::dup2(saved.get(), STDERR_FILENO);
  engineOutput = readAllFrom(capture.get());
  return handle;
}

std::string firstLine(std::string_view text) {
  while (!text.empty() && (text.front() == '\n' || text.front() == ' ')) text.remove_prefix(1);
  text = text.substr(0, std::min(text.find('\n'), size_t{300}));
  return std::string(text);
}

}  // namespace

Result<std::unique_ptr<ChdbConnection>> ChdbConnection::open(const std::string& dataPath,
                                                             ConnectOptions options) {
  std::unique_ptr<ChdbConnection> c(new ChdbConnection(dataPath, std::move(options)));
  STACKHOUSE_RETURN_IF_ERROR(c->connect(/*first=*/true));
  return c;
}

ChdbConnection::~ChdbConnection() {
  if (handle_ != nullptr) chdb_close_conn(static_cast<chdb_connection*>(handle_));
  if (configFd_ >= 0) ::close(configFd_);
}

Status ChdbConnection::connect(bool first) {
  std::vector<std::string> args = {"stackhouse", "--path=" + dataPath_};
  if (options_.maxMemoryBytes != 0) {
    args.push_back("--max_server_memory_usage=" + std::to_string(options_.maxMemoryBytes));
  }
  if (options_.uncompressedCacheBytes != 0) {
    args.push_back("--uncompressed_cache_size=" + std::to_string(options_.uncompressedCacheBytes));
  }
  // The configuration goes in through a memory file, so that nothing is written on disk for it.
  // The engine reads it during chdb_connect; it stays open with the connection, so that its path
  // names it for as long as the engine may look at it again.
  if (options_.readOnly) {
    if (configFd_ < 0) {
      Fd config(::memfd_create("stackhouse-engine-config", MFD_CLOEXEC));
      if (config.get() < 0 || !writeAll(config.get(), kReadOnlyConfig)) {
        return internalError("cannot prepare the engine's read-only configuration: " +
                             std::string(std::strerror(errno)));
      }
      configFd_ = config.release();
    }
    args.push_back("--config-file=/proc/self/fd/" + std::to_string(configFd_));
  }
  std::vector<char*> argv;
  argv.reserve(args.size());
  for (std::string& a : args) argv.push_back(a.data());
  std::string engineOutput;
  // Only the first open captures stderr: a replacement (after a failed statement) happens while
  // other threads run, whose stderr (a stack dump, say) must not be swapped away meanwhile.
  chdb_connection* handle =
      first ? connectCapturingStderr(static_cast<int>(argv.size()), argv.data(), engineOutput)
            : chdb_connect(static_cast<int>(argv.size()), argv.data());
  if (handle == nullptr || *handle == nullptr) {
    if (engineOutput.find("Cannot lock file") != std::string::npos ||
        engineOutput.find("Another server instance") != std::string::npos) {
      return unavailable("another process holds the data directory (the engine could not lock " +
                         dataPath_ + "/status)");
    }
    const std::string detail = firstLine(engineOutput);
    return internalError("the embedded store could not open its data directory" +
                         (detail.empty() ? std::string() : ": " + detail));
  }
  // Anything the engine says while it opens successfully is passed on, as before.
  if (!engineOutput.empty()) std::fwrite(engineOutput.data(), 1, engineOutput.size(), stderr);
  handle_ = handle;
  failed_ = false;
  for (const std::string& sql : options_.setup) {
    auto r = finish(chdb_query_n(conn(handle_), sql.data(), sql.size(), "TSV", 3));
    if (!r) return r.status();
  }
  return Status::ok();
}

Status ChdbConnection::ready() {
  if (!failed_ && handle_ != nullptr) return Status::ok();
  if (handle_ != nullptr) chdb_close_conn(static_cast<chdb_connection*>(handle_));
  handle_ = nullptr;
  ++replacements_;
  return connect(/*first=*/false);
}

Result<QueryOutput> ChdbConnection::finish(void* r) {
  auto* result = static_cast<chdb_result*>(r);
  if (result == nullptr) {
    failed_ = true;
    return internalError("the embedded store returned no result");
  }
  if (const char* err = chdb_result_error(result); err != nullptr) {
    lastError_ = parseEngineError(err);
    failed_ = true;
    chdb_destroy_query_result(result);
    return toStatus(lastError_);
  }
  QueryOutput out;
  if (const char* buf = chdb_result_buffer(result); buf != nullptr) {
    out.data.assign(buf, chdb_result_length(result));
  }
  out.elapsedSeconds = chdb_result_elapsed(result);
  out.rowsRead = chdb_result_rows_read(result);
  out.bytesRead = chdb_result_bytes_read(result);
  chdb_destroy_query_result(result);
  return out;
}

Result<QueryOutput> ChdbConnection::run(std::string_view sql, std::string_view format,
                                        const QueryParams& params, std::string_view queryId) {
  if (queryId.empty()) return query(sql, format, params);
  std::string statement;
  statement.reserve(sql.size() + queryId.size() + 8);
  statement.append("/* ").append(queryId).append(" */ ").append(sql);
  return query(statement, format, params);
}

std::string ChdbConnection::killStatement(std::string_view queryId) const {
  // The id is ours (letters, digits, '-') and starts the statement text, which user text cannot:
  // it follows the id.
  return "KILL QUERY WHERE startsWith(query, '/* " + std::string(queryId) + " */') ASYNC";
}

Result<QueryOutput> ChdbConnection::query(std::string_view sql, std::string_view format) {
  STACKHOUSE_RETURN_IF_ERROR(ready());
  return finish(chdb_query_n(conn(handle_), sql.data(), sql.size(), format.data(), format.size()));
}

Result<QueryOutput> ChdbConnection::query(std::string_view sql, std::string_view format,
                                          const QueryParams& params) {
  if (params.empty()) return query(sql, format);
  STACKHOUSE_RETURN_IF_ERROR(ready());
  std::vector<const char*> names, values;
  std::vector<size_t> nameLens, valueLens;
  for (const auto& [k, v] : params) {
    names.push_back(k.data());
    nameLens.push_back(k.size());
    values.push_back(v.data());
    valueLens.push_back(v.size());
  }
  return finish(chdb_query_with_params_n(conn(handle_), sql.data(), sql.size(), format.data(),
                                         format.size(), names.data(), nameLens.data(),
                                         values.data(), valueLens.data(), params.size()));
}

Status ChdbConnection::registerArrow(const std::string& name, ArrowArrayStream* stream) {
  STACKHOUSE_RETURN_IF_ERROR(ready());
  if (chdb_arrow_scan(conn(handle_), name.c_str(), reinterpret_cast<chdb_arrow_stream>(stream)) !=
      CHDBSuccess) {
    return internalError("the embedded store refused an Arrow stream");
  }
  return Status::ok();
}

void ChdbConnection::unregisterArrow(const std::string& name) {
  if (handle_ == nullptr) return;
  chdb_arrow_unregister_table(conn(handle_), name.c_str());
}

}  // namespace stackhouse::store
