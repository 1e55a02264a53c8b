// The part of chDB's C API (libchdb.so, version pinned in scripts/setup.sh) that stackhouse
// uses, declared here because the npm package ships the library without its header.
#pragma once

#include <cstddef>
#include <cstdint>

extern "C" {
typedef enum chdb_state { CHDBSuccess = 0, CHDBError = 1 } chdb_state;
typedef struct chdb_result_ {
  void* internal_data;
} chdb_result;
typedef struct chdb_connection_ {
  void* internal_data;
} * chdb_connection;
typedef struct chdb_arrow_stream_ {
  void* internal_data;
} * chdb_arrow_stream;

chdb_connection* chdb_connect(int argc, char** argv);
void chdb_close_conn(chdb_connection* conn);
chdb_result* chdb_query_n(chdb_connection conn, const char* query, size_t query_len,
                          const char* format, size_t format_len);
chdb_result* chdb_query_with_params_n(chdb_connection conn, const char* query, size_t query_len,
                                      const char* format, size_t format_len,
                                      const char* const* param_names, const size_t* param_name_lens,
                                      const char* const* param_values,
                                      const size_t* param_value_lens, size_t param_count);
void chdb_destroy_query_result(chdb_result* result);
char* chdb_result_buffer(chdb_result* result);
size_t chdb_result_length(chdb_result* result);
double chdb_result_elapsed(chdb_result* result);
uint64_t chdb_result_rows_read(chdb_result* result);
uint64_t chdb_result_bytes_read(chdb_result* result);
const char* chdb_result_error(chdb_result* result);
chdb_state chdb_arrow_scan(chdb_connection conn, const char* table_name, chdb_arrow_stream stream);
chdb_state chdb_arrow_unregister_table(chdb_connection conn, const char* table_name);
void chdb_set_signal_handlers_enabled(int enabled);
}
