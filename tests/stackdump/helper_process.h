// Runs tests/stackdump/stackdump_helper as a child process with its stdin, stdout and stderr on
// pipes, so tests can signal it and read its dumps.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace stackhouse::stackdump::testing {

class HelperProcess {
 public:
  // Starts the helper with `args`. STACKDUMP_LABEL and OTEL_SERVICE_NAME are removed from the
  // environment, then each "NAME=value" of `environment` is added.
  explicit HelperProcess(const std::vector<std::string>& args,
                         const std::vector<std::string>& environment = {});
  ~HelperProcess();  // SIGKILLs and reaps the helper if it still runs
  HelperProcess(const HelperProcess&) = delete;
  HelperProcess& operator=(const HelperProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool started() const { return pid_ > 0; }

  // Writes `command` and a newline to the helper's stdin.
  void send(std::string_view command);

  // Reads the helper's output until `done()` holds or `timeout` passes; returns done().
  bool waitUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout);
  bool waitForStdout(std::string_view text, std::chrono::milliseconds timeout);
  bool waitForStderr(std::string_view text, std::chrono::milliseconds timeout);
  // Waits until stderr holds `count` occurrences of `text`.
  bool waitForStderrCount(std::string_view text, size_t count, std::chrono::milliseconds timeout);

  // Reads whatever output is available now, without waiting.
  void drain();

  const std::string& out() const { return out_; }
  const std::string& err() const { return err_; }

  // True while the helper has not exited.
  bool alive();

 private:
  // Reads available output, waiting at most `waitMs` for some.
  void pump(int waitMs);

  pid_t pid_ = -1;
  int stdin_ = -1;
  int stdout_ = -1;
  int stderr_ = -1;
  bool reaped_ = false;
  std::string out_;
  std::string err_;
};

// Occurrences of `text` in `haystack`.
size_t countOf(std::string_view haystack, std::string_view text);

// Generous: the tests run on a loaded two-core machine, and under AddressSanitizer.
inline constexpr std::chrono::milliseconds kPatience{30000};

}  // namespace stackhouse::stackdump::testing
