#include "helper_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace stackhouse::stackdump::testing {
namespace {

void closeFd(int& fd) {
  if (fd >= 0) close(fd);
  fd = -1;
}

bool readSome(int& fd, std::string& into) {
  if (fd < 0) return false;
  char buffer[65536];
  const ssize_t n = read(fd, buffer, sizeof(buffer));
  if (n > 0) {
    into.append(buffer, static_cast<size_t>(n));
    return true;
  }
  if (n == 0 || (errno != EAGAIN && errno != EINTR)) closeFd(fd);
  return false;
}

}  // namespace

size_t countOf(std::string_view haystack, std::string_view text) {
  size_t count = 0;
  for (size_t at = haystack.find(text); at != std::string_view::npos;
       at = haystack.find(text, at + text.size())) {
    ++count;
  }
  return count;
}

HelperProcess::HelperProcess(const std::vector<std::string>& args,
                             const std::vector<std::string>& environment) {
  int in[2];
  int out[2];
  int err[2];
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
    return;
  }
  std::vector<std::string> argStrings = {STACKDUMP_HELPER_PATH};
  argStrings.insert(argStrings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& arg : argStrings) argv.push_back(arg.data());
  argv.push_back(nullptr);

  std::vector<std::string> envStrings;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string_view variable(*entry);
    if (variable.starts_with("STACKDUMP_LABEL=") || variable.starts_with("OTEL_SERVICE_NAME=")) {
      continue;
    }
    envStrings.emplace_back(variable);
  }
  envStrings.insert(envStrings.end(), environment.begin(), environment.end());
  std::vector<char*> envp;
  for (std::string& variable : envStrings) envp.push_back(variable.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  pid_t pid = -1;
  if (posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data()) == 0) pid_ = pid;
  posix_spawn_file_actions_destroy(&actions);
  close(in[0]);
  close(out[1]);
  close(err[1]);
  stdin_ = in[1];
  stdout_ = out[0];
  stderr_ = err[0];
  fcntl(stdout_, F_SETFL, O_NONBLOCK);
  fcntl(stderr_, F_SETFL, O_NONBLOCK);
}

HelperProcess::~HelperProcess() {
  if (pid_ > 0 && !reaped_) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  closeFd(stdin_);
  closeFd(stdout_);
  closeFd(stderr_);
}

void HelperProcess::send(std::string_view command) {
  std::string line(command);
  line += '\n';
  const ssize_t n = write(stdin_, line.data(), line.size());
  (void)n;
}

void HelperProcess::pump(int waitMs) {
  pollfd fds[2] = {{stdout_, POLLIN, 0}, {stderr_, POLLIN, 0}};
  if (stdout_ < 0 && stderr_ < 0) {
    poll(nullptr, 0, waitMs);
    return;
  }
  if (poll(fds, 2, waitMs) <= 0) return;
  while (readSome(stdout_, out_)) {
  }
  while (readSome(stderr_, err_)) {
  }
}

void HelperProcess::drain() { pump(0); }

bool HelperProcess::waitUntil(const std::function<bool()>& done,
                              std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    pump(0);
    if (done()) return true;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pump(static_cast<int>(std::min<long long>(left.count(), 50)));
  }
}

bool HelperProcess::waitForStdout(std::string_view text, std::chrono::milliseconds timeout) {
  return waitUntil([&] { return out_.find(text) != std::string::npos; }, timeout);
}

bool HelperProcess::waitForStderr(std::string_view text, std::chrono::milliseconds timeout) {
  return waitUntil([&] { return err_.find(text) != std::string::npos; }, timeout);
}

bool HelperProcess::waitForStderrCount(std::string_view text, size_t count,
                                       std::chrono::milliseconds timeout) {
  return waitUntil([&] { return countOf(err_, text) >= count; }, timeout);
}

bool HelperProcess::alive() {
  if (pid_ <= 0 || reaped_) return false;
  int status = 0;
  const pid_t result = waitpid(pid_, &status, WNOHANG);
  if (result == pid_) reaped_ = true;
  return result == 0;
}

}  // namespace stackhouse::stackdump::testing
