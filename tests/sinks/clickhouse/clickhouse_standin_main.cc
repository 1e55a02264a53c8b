// clickhouse-standin: the ClickHouse stand-in as a process, for tests that drive stackhouse from
// outside (outage tests: it can go down and come back, and fail on demand).
//
//   clickhouse-standin --data DIR [--port N] [--user U] [--password P]
//
// Prints one JSON line, {"port":N}, once it listens; runs until SIGTERM or SIGINT. Besides
// ClickHouse's HTTP interface on `/`, it serves (loopback, no authentication: a test tool):
//   POST /standin/fail?count=N&status=S&code=C&name=NAME&message=M   next N statements fail so
//   POST /standin/delay?count=N&ms=D     next N statements run, answered D ms later
//   POST /standin/down?seconds=S         down (connections refused) for S seconds, then back
//   GET  /standin/stats                  {"statements": <run so far>}
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "sinks/clickhouse/clickhouse_standin.h"

int main(int argc, char** argv) {
  stackhouse::testing::StandinOptions options;
  options.control = true;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i];
    const std::string value = argv[i + 1];
    if (key == "--data") {
      options.dataPath = value + "/engine";
      options.tempDir = value;
    } else if (key == "--port") {
      options.port = static_cast<uint16_t>(std::atoi(value.c_str()));
    } else if (key == "--user") {
      options.user = value;
    } else if (key == "--password") {
      options.password = value;
    } else {
      std::fprintf(stderr, "clickhouse-standin: unknown option %s\n", key.c_str());
      return 2;
    }
  }
  if (options.dataPath.empty()) {
    std::fprintf(stderr,
                 "usage: clickhouse-standin --data DIR [--port N] [--user U] [--password P]\n");
    return 2;
  }
  std::error_code ec;
  std::filesystem::create_directories(options.tempDir, ec);
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // before any thread starts: all inherit it
  auto standin = stackhouse::testing::ClickhouseStandin::start(options);
  if (!standin) {
    std::fprintf(stderr, "clickhouse-standin: %s\n", standin.status().toString().c_str());
    std::fflush(stderr);
    _exit(1);
  }
  std::printf("{\"port\":%u}\n", standin.value()->port());
  std::fflush(stdout);
  int received = 0;
  sigwait(&signals, &received);
  standin.value()->stop();
  std::fflush(stdout);
  // The engine has no shutdown call: leave without global destructors (DESIGN.md).
  _exit(0);
}
