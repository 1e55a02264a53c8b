// A program for the stack-dump tests to signal: it installs stackdump, starts named threads
// parked in known functions, prints "ready <pid>" on stdout and then obeys one-line commands on
// stdin, answering on stdout:
//
//   ping     -> "pong"                       (the main thread is alive)
//   feed     -> reader thread: "reader got 1" (its read() survived the dump)
//   dump     -> dumpNow(), then "dumped"
//   fork     -> a child that prints "child <pid>" and parks; it dies with this process
//   clobber  -> replaces SIGUSR2's and the capture signal's handlers, calls reinstall() and
//               prints "clobbered <ours before> <reinstalled> <ours after> <old> <new signal>"
//   exit     -> "bye", then exits
//
// Options: --role R (default "stackdump-helper"), --allocators N (default 1), --stuck (adds a
// thread stuck in the kernel inside vfork).
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "stackdump/stackdump.h"

namespace sd = stackhouse::stackdump;

std::atomic<int> parked{0};
int readerPipe[2] = {-1, -1};

// Keeps the compiler from folding, inlining into callers or eliding what these functions do.
#define PARKED __attribute__((noinline))
inline void opaque(void* p) { asm volatile("" : : "g"(p) : "memory"); }

void say(std::string_view line) {
  std::string text(line);
  text += '\n';
  const char* data = text.data();
  size_t left = text.size();
  while (left > 0) {
    const ssize_t n = write(1, data, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) _exit(3);
    data += n;
    left -= static_cast<size_t>(n);
  }
}

PARKED void parkSleeping() {
  parked.fetch_add(1);
  for (;;) {
    timespec interval = {0, 50'000'000};
    nanosleep(&interval, nullptr);
    asm volatile("");
  }
}

// No calls inside the loop: wherever the signal lands, frame #0 is this function.
PARKED void parkSpinning() {
  parked.fetch_add(1);
  volatile std::uint64_t counter = 0;
  for (;;) counter = counter + 1;
}

PARKED void parkInRead() {
  parked.fetch_add(1);
  for (;;) {
    char byte = 0;
    const ssize_t n = read(readerPipe[0], &byte, 1);
    if (n == 1) {
      say("reader got 1");
    } else if (n < 0) {
      // With SA_RESTART the capture must never surface here as EINTR.
      say(std::string("reader error ") + std::strerror(errno));
    }
  }
}

PARKED void parkWithSignalBlocked() {
  sigset_t capture;
  sigemptyset(&capture);
  sigaddset(&capture, sd::dumpSignal());
  pthread_sigmask(SIG_BLOCK, &capture, nullptr);
  parked.fetch_add(1);
  for (;;) {
    timespec interval = {0, 50'000'000};
    nanosleep(&interval, nullptr);
    asm volatile("");
  }
}

PARKED void parkAllocating(unsigned seed) {
  parked.fetch_add(1);
  std::vector<void*> held(64, nullptr);
  for (unsigned i = seed;; ++i) {
    const size_t slot = (i * 2654435761U) % held.size();
    std::free(held[slot]);
    held[slot] = std::malloc(16 + (i * 40503U) % 4096);
    opaque(held[slot]);
    std::string churn(static_cast<size_t>(i % 200), 'x');
    opaque(churn.data());
  }
}

// vfork suspends this thread in the kernel until the child exits: it cannot run a handler.
// The child waits for end-of-file on a pipe whose only other write end this process holds, so
// the thread stays stuck for the helper's whole life and the child goes when the helper does.
PARKED void parkStuckInKernel() {
  int fds[2];
  if (pipe(fds) != 0) std::abort();
  parked.fetch_add(1);
  for (;;) {
    const pid_t child = vfork();
    if (child == 0) {
      syscall(SYS_close, fds[1]);
      char byte;
      while (syscall(SYS_read, fds[0], &byte, 1) != 0) {
      }
      _exit(0);
    }
    if (child < 0) {
      timespec interval = {0, 100'000'000};
      nanosleep(&interval, nullptr);
    }
  }
}

PARKED void parkChild() {
  for (;;) pause();
}

void startNamed(const char* name, void (*body)()) {
  std::thread thread([name, body] {
    pthread_setname_np(pthread_self(), name);
    body();
  });
  thread.detach();
}

void clobber() {
  const bool oursBefore = sd::handlerIsOurs();
  const int oldSignal = sd::dumpSignal();
  struct sigaction foreign = {};
  foreign.sa_handler = [](int) {};
  sigemptyset(&foreign.sa_mask);
  sigaction(SIGUSR2, &foreign, nullptr);
  sigaction(oldSignal, &foreign, nullptr);
  const bool oursClobbered = sd::handlerIsOurs();
  const bool reinstalled = sd::reinstall();
  char line[160];
  std::snprintf(line, sizeof(line), "clobbered %d %d %d %d %d %d", oursBefore ? 1 : 0,
                oursClobbered ? 1 : 0, reinstalled ? 1 : 0, sd::handlerIsOurs() ? 1 : 0, oldSignal,
                sd::dumpSignal());
  say(line);
}

int main(int argc, char** argv) {
  std::string role = "stackdump-helper";
  int allocators = 1;
  bool stuck = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--role" && i + 1 < argc) {
      role = argv[++i];
    } else if (arg == "--allocators" && i + 1 < argc) {
      allocators = std::atoi(argv[++i]);
    } else if (arg == "--stuck") {
      stuck = true;
    } else {
      std::fprintf(stderr, "unknown argument %s\n", argv[i]);
      return 2;
    }
  }
  if (!sd::install(role)) return 1;
  pthread_setname_np(pthread_self(), "helper-main");
  if (pipe(readerPipe) != 0) return 1;

  startNamed("sleeper", parkSleeping);
  startNamed("spinner", parkSpinning);
  startNamed("reader", parkInRead);
  startNamed("blocker", parkWithSignalBlocked);
  static std::vector<std::string> names;
  for (int i = 0; i < allocators; ++i) names.push_back("allocator-" + std::to_string(i));
  for (int i = 0; i < allocators; ++i) {
    std::thread thread([i] {
      pthread_setname_np(pthread_self(), names[static_cast<size_t>(i)].c_str());
      parkAllocating(static_cast<unsigned>(i) * 7919U);
    });
    thread.detach();
  }
  if (stuck) startNamed("stuck", parkStuckInKernel);
  const int expected = 4 + allocators + (stuck ? 1 : 0);
  while (parked.load() < expected) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  say("ready " + std::to_string(getpid()));

  std::string pending;
  char buffer[256];
  for (;;) {
    const ssize_t n = read(0, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) _exit(0);
    pending.append(buffer, static_cast<size_t>(n));
    size_t end;
    while ((end = pending.find('\n')) != std::string::npos) {
      const std::string command = pending.substr(0, end);
      pending.erase(0, end + 1);
      if (command == "ping") {
        say("pong");
      } else if (command == "feed") {
        const char byte = 1;
        if (write(readerPipe[1], &byte, 1) != 1) say("feed failed");
      } else if (command == "dump") {
        say(sd::dumpNow() ? "dumped" : "dump refused");
      } else if (command == "fork") {
        const pid_t child = fork();
        if (child == 0) {
          prctl(PR_SET_PDEATHSIG, SIGKILL);
          say("child " + std::to_string(getpid()));
          parkChild();
        }
        if (child < 0) say("fork failed");
      } else if (command == "clobber") {
        clobber();
      } else if (command == "exit") {
        say("bye");
        _exit(0);
      } else {
        say("unknown command " + command);
      }
    }
  }
}
