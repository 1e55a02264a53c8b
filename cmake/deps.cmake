find_package(Threads REQUIRED)
find_package(ZLIB REQUIRED)
find_package(PkgConfig REQUIRED)
find_package(Boost 1.74 REQUIRED)
# TLS on the UI listener (Boost.Asio's ssl streams).
find_package(OpenSSL REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(simdjson REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
pkg_check_modules(LIBUNWIND REQUIRED IMPORTED_TARGET libunwind)
pkg_check_modules(LIBDW REQUIRED IMPORTED_TARGET libdw)
# UI app metadata (users, sessions, API keys) and its password hashes and tokens.
pkg_check_modules(SQLITE3 REQUIRED IMPORTED_TARGET sqlite3)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
# OTLP/gRPC: grpc++ 1.51 from Debian (libgrpc++-dev), served through its generic callback API.
pkg_check_modules(GRPCPP REQUIRED IMPORTED_TARGET grpc++)
# Alert notifications (webhooks): one small libcurl POST.
pkg_check_modules(LIBCURL REQUIRED IMPORTED_TARGET libcurl)

if(STACKHOUSE_WITH_CHDB)
  if(NOT EXISTS "${CHDB_DIR}/libchdb.so")
    message(FATAL_ERROR "libchdb.so not found in ${CHDB_DIR}: run scripts/setup.sh (make build does)")
  endif()
  add_library(chdb SHARED IMPORTED GLOBAL)
  set_target_properties(chdb PROPERTIES IMPORTED_LOCATION "${CHDB_DIR}/libchdb.so"
    IMPORTED_NO_SONAME ON)
endif()
