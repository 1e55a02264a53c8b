#include "stackdump/stackdump.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <mutex>

#include "stackdump/dumper.h"
#include "stackdump/thread_capture.h"

namespace stackhouse::stackdump {
namespace {

using detail::writeAll;

// Fixed by install(). Only a forked child's atfork handler changes them, while the child has
// a single thread.
struct Settings {
  std::string role;
  std::string label;
  bool labelIsDefault = true;  // "<role>-<pid>": a forked child relabels itself with its pid
  int outputFd = 2;
  std::chrono::milliseconds answerTimeout{200};
};

// The dumping thread's world. A forked child builds a new one and keeps the parent's copy
// reachable but never touches it again: its mutex or condition variable may be held or waited
// on by threads that do not exist in the child, so it can be neither used nor destroyed.
struct Runtime {
  std::mutex mutex;
  std::condition_variable dumpFinished;
  std::uint64_t dumpsStarted = 0;   // guarded by mutex
  std::uint64_t dumpsFinished = 0;  // guarded by mutex
  int wakeReadFd = -1;
  std::atomic<pid_t> daemonTid{0};
  detail::Dumper dumper;         // the daemon thread's only
  Runtime* abandoned = nullptr;  // in a forked child: the parent's copy
};

// Guards install, reinstall, the capture signal's replacement and fork; held across fork() so
// the child sees settings and runtime in a consistent state.
std::mutex installMutex;
bool installAttempted = false;  // guarded by installMutex
bool installSucceeded = false;  // guarded by installMutex
sigset_t maskBeforeFork;        // guarded by installMutex, which fork holds throughout

// Never freed: the daemon thread may still run while the process exits (through exit() and its
// static destructors), so everything it touches lives until the very end.
Settings* settings = nullptr;
Runtime* runtime = nullptr;

// Read by signal handlers, hence atomics.
std::atomic<int> wakeWriteFd{-1};
std::atomic<int> captureSignal{0};

void onUsr2(int /*signal*/) {
  const int savedErrno = errno;
  const char wake = 0;  // kWakeDump
  // Non-blocking: a full pipe already holds a pending request, which this one joins.
  [[maybe_unused]] const ssize_t written =
      write(wakeWriteFd.load(std::memory_order_relaxed), &wake, 1);
  errno = savedErrno;
}

bool usr2HandlerIsOurs() {
  struct sigaction current = {};
  if (sigaction(SIGUSR2, nullptr, &current) != 0) return false;
  return (current.sa_flags & SA_SIGINFO) == 0 && current.sa_handler == onUsr2;
}

bool installUsr2Handler() {
  struct sigaction action = {};
  action.sa_handler = onUsr2;
  action.sa_flags = SA_RESTART;  // the interrupted thread's system call carries on
  sigemptyset(&action.sa_mask);
  return sigaction(SIGUSR2, &action, nullptr) == 0;
}

// Threads inherit their creator's signal mask, and a process inherits its mask across exec:
// unblocking both signals here, first thing in main, opens them to every thread started later.
void unblockOurSignals(int capture) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGUSR2);
  if (capture > 0) sigaddset(&signals, capture);
  pthread_sigmask(SIG_UNBLOCK, &signals, nullptr);
}

void computeLabel(Settings& s) {
  for (const char* name : {"STACKDUMP_LABEL", "OTEL_SERVICE_NAME"}) {
    const char* value = std::getenv(name);
    if (value != nullptr && *value != '\0') {
      s.label = value;
      s.labelIsDefault = false;
      return;
    }
  }
  s.label = s.role + "-" + std::to_string(getpid());
  s.labelIsDefault = true;
}

bool openWakePipe(Runtime& r) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) return false;
  r.wakeReadFd = fds[0];
  const int old = wakeWriteFd.exchange(fds[1]);
  if (old >= 0) close(old);
  return true;
}

// Wake-up bytes: a dump (SIGUSR2, dumpNow) or a warm-up (warmUp).
constexpr char kWakeDump = 0;
constexpr char kWakeWarmUp = 1;

struct Wakeups {
  bool dump = false;
  bool warmUp = false;
};

// Reads every pending wake-up byte: all SIGUSR2s received up to now are answered by the one
// dump that follows.
Wakeups drainWakeups(int fd) {
  Wakeups w;
  char buffer[256];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof(buffer))) > 0) {
    for (ssize_t i = 0; i < n; ++i) (buffer[i] == kWakeWarmUp ? w.warmUp : w.dump) = true;
  }
  return w;
}

// The capture signal for the next dump. If another library took it over since, that library
// keeps it and a free one is chosen: signalling with a handler that is not ours could run
// someone else's code, or with SIG_DFL, terminate the process.
int currentCaptureSignal() {
  std::lock_guard lock(installMutex);
  int signal = captureSignal.load();
  if (!detail::captureHandlerInstalled(signal)) {
    signal = detail::installCaptureHandler();
    captureSignal.store(signal);
  }
  return signal;
}

void* runDaemon(void* argument) {
  Runtime& r = *static_cast<Runtime*>(argument);
  pthread_setname_np(pthread_self(), "stackdump");
  r.daemonTid.store(gettid());
  for (;;) {
    pollfd wake = {r.wakeReadFd, POLLIN, 0};
    if (poll(&wake, 1, -1) < 0) {
      if (errno != EINTR) poll(nullptr, 0, 100);  // never spin on a broken descriptor
      continue;
    }
    Wakeups w;
    {
      std::lock_guard lock(r.mutex);
      w = drainWakeups(r.wakeReadFd);
      if (!w.dump && !w.warmUp) continue;
      if (w.dump) ++r.dumpsStarted;
    }
    const int signal = currentCaptureSignal();
    // A warm-up is a dump that writes nothing: it reads the symbols a real dump would need.
    r.dumper.dump({.label = settings->label,
                   .outputFd = w.dump ? settings->outputFd : -1,
                   .signal = signal,
                   .answerTimeout = settings->answerTimeout});
    if (!w.dump) continue;
    {
      std::lock_guard lock(r.mutex);
      ++r.dumpsFinished;
    }
    r.dumpFinished.notify_all();
  }
  return nullptr;
}

bool startDaemon(Runtime& r) {
  // The daemon blocks every asynchronous signal except SIGUSR2: it never needs the capture
  // signal (it lists its own stack directly), and keeping SIGUSR2 open means a dump can be
  // requested even in a program whose other threads all block it.
  sigset_t mask;
  sigset_t previous;
  sigfillset(&mask);
  for (int open : {SIGUSR2, SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT}) sigdelset(&mask, open);
  pthread_sigmask(SIG_SETMASK, &mask, &previous);
  pthread_t thread;
  const int error = pthread_create(&thread, nullptr, runDaemon, &r);
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  if (error != 0) return false;
  pthread_detach(thread);
  return true;
}

void prepareFork() {
  installMutex.lock();
  // No SIGUSR2 may run on this thread until the child has its own wake pipe: the inherited
  // one is the parent's, and a byte written there would make the parent dump.
  sigset_t usr2;
  sigemptyset(&usr2);
  sigaddset(&usr2, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &usr2, &maskBeforeFork);
}

void afterForkInParent() {
  pthread_sigmask(SIG_SETMASK, &maskBeforeFork, nullptr);
  installMutex.unlock();
}

// Runs in the child with one thread; glibc has already reset malloc's locks, so allocating here
// is safe. A child that goes on to exec loses all of this, which costs one short-lived thread.
void afterForkInChild() {
  if (installSucceeded) {
    if (settings->labelIsDefault) computeLabel(*settings);
    detail::resetCaptureAfterFork();
    auto* fresh = new Runtime;
    fresh->abandoned = runtime;
    close(runtime->wakeReadFd);
    const bool armed = detail::openAnswerPipe() && openWakePipe(*fresh) && startDaemon(*fresh);
    runtime = fresh;
    if (!armed) {
      writeAll(settings->outputFd, "stackdump: forked child could not start its dump thread\n");
    }
  }
  pthread_sigmask(SIG_SETMASK, &maskBeforeFork, nullptr);
  installMutex.unlock();
}

bool fail(int fd, std::string_view why) {
  std::string line = "stackdump: not installed: ";
  line += why;
  line += '\n';
  writeAll(fd, line);
  return false;
}

}  // namespace

bool install(const Options& options) {
  std::lock_guard lock(installMutex);
  if (installAttempted) return installSucceeded;
  installAttempted = true;

  settings = new Settings;
  settings->role = options.role;
  settings->outputFd = options.outputFd;
  settings->answerTimeout = options.answerTimeout;
  computeLabel(*settings);

  runtime = new Runtime;
  if (!detail::openAnswerPipe() || !openWakePipe(*runtime)) {
    return fail(options.outputFd, "cannot create pipes");
  }
  const int signal = detail::installCaptureHandler();
  if (signal == 0) return fail(options.outputFd, "no real-time signal is free");
  captureSignal.store(signal);
  unblockOurSignals(signal);

  // Rehearse one capture on this thread, before the daemon exists (it is then the only
  // caller): this proves the handler works and makes libunwind set itself up and the dynamic
  // linker bind its functions now rather than inside the first real signal handler.
  detail::Stack rehearsal;
  if (detail::captureThread(gettid(), signal, options.answerTimeout, rehearsal) !=
          detail::CaptureResult::kCaptured ||
      rehearsal.frames.empty()) {
    return fail(options.outputFd, "the capture handler did not answer on the installing thread");
  }

  if (!installUsr2Handler()) return fail(options.outputFd, "cannot install the SIGUSR2 handler");
  if (pthread_atfork(prepareFork, afterForkInParent, afterForkInChild) != 0) {
    return fail(options.outputFd, "pthread_atfork failed");
  }
  if (!startDaemon(*runtime)) return fail(options.outputFd, "cannot start the stackdump thread");
  installSucceeded = true;
  return true;
}

bool install(std::string_view role) {
  Options options;
  options.role = role;
  return install(options);
}

std::string label() {
  std::lock_guard lock(installMutex);
  return settings != nullptr ? settings->label : std::string();
}

bool handlerIsOurs() {
  std::lock_guard lock(installMutex);
  return installSucceeded && usr2HandlerIsOurs() &&
         detail::captureHandlerInstalled(captureSignal.load());
}

bool reinstall() {
  std::lock_guard lock(installMutex);
  if (!installSucceeded) return false;
  if (!usr2HandlerIsOurs()) installUsr2Handler();
  if (!detail::captureHandlerInstalled(captureSignal.load())) {
    captureSignal.store(detail::installCaptureHandler());
  }
  return usr2HandlerIsOurs() && detail::captureHandlerInstalled(captureSignal.load());
}

int dumpSignal() { return captureSignal.load(); }

bool warmUp() {
  std::lock_guard lock(installMutex);
  if (!installSucceeded) return false;
  const char wake = kWakeWarmUp;
  return write(wakeWriteFd.load(), &wake, 1) == 1 || errno == EAGAIN;
}

bool dumpNow() {
  Runtime* r = nullptr;
  {
    std::lock_guard lock(installMutex);
    if (!installSucceeded) return false;
    r = runtime;
  }
  if (r->daemonTid.load() == gettid()) return false;
  std::unique_lock lock(r->mutex);
  // Written under the mutex the daemon drains under, so this byte is consumed by a dump
  // numbered after `before`, which therefore starts after this call.
  const std::uint64_t before = r->dumpsStarted;
  const char wake = kWakeDump;
  if (write(wakeWriteFd.load(), &wake, 1) < 0 && errno != EAGAIN) return false;
  r->dumpFinished.wait(lock, [&] { return r->dumpsFinished > before; });
  return true;
}

}  // namespace stackhouse::stackdump
