#include "store/chdb_connection.h"

#include <mutex>

#include "store/chdb_api.h"

namespace stackhouse::store {

namespace {
chdb_connection conn(void* handle) { return *static_cast<chdb_connection*>(handle); }
}  // namespace

Result<std::unique_ptr<ChdbConnection>> ChdbConnection::open(const std::string& dataPath,
                                                             uint64_t maxMemoryBytes,
                                                             std::vector<std::string> setup) {
  std::unique_ptr<ChdbConnection> c(new ChdbConnection(dataPath, maxMemoryBytes, std::move(setup)));
  STACKHOUSE_RETURN_IF_ERROR(c->connect());
  return c;
}

ChdbConnection::~ChdbConnection() {
  if (handle_ != nullptr) chdb_close_conn(static_cast<chdb_connection*>(handle_));
}

Status ChdbConnection::connect() {
  std::string arg0 = "stackhouse";
  std::string arg1 = "--path=" + dataPath_;
  std::string arg2 = "--max_server_memory_usage=" + std::to_string(maxMemoryBytes_);
  char* argv[] = {arg0.data(), arg1.data(), arg2.data()};
  chdb_connection* handle = chdb_connect(maxMemoryBytes_ != 0 ? 3 : 2, argv);
  if (handle == nullptr || *handle == nullptr) {
    return unavailable("the embedded store could not open its data directory");
  }
  handle_ = handle;
  failed_ = false;
  for (const std::string& sql : setup_) {
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
  return connect();
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
