// stackdump: `kill -s USR2 <pid>` writes every thread's stack to stderr.
//
// Link the CMake target `stackhouse_stackdump` (it needs only libunwind, libdw and pthreads,
// nothing else of stackhouse) and call install() first thing in main():
//
//   #include "stackdump/stackdump.h"
//
//   int main(int argc, char** argv) {
//     stackhouse::stackdump::install("stackhouse-run");   // label "stackhouse-run-<pid>"
//     ...
//     openStore();  // a library that installs signal handlers of its own (chDB does)
//     if (!stackhouse::stackdump::handlerIsOurs()) stackhouse::stackdump::reinstall();
//   }
//
// What happens on SIGUSR2: the handler only writes a byte to a pipe. A daemon thread named
// "stackdump" wakes, sends a real-time signal (dumpSignal()) to each thread in turn with
// tgkill(2); each thread's handler unwinds its own stack into preallocated memory and answers
// on a pipe. The daemon then resolves function, file and line with libdw and writes the dump
// to fd 2 with write(2), never through a logger. Output format, signal choice and limits:
// src/stackdump/README.md.
//
// Threads: install() and reinstall() may be called from any thread; the other functions too.
// None may be called from a signal handler.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace stackhouse::stackdump {

struct Options {
  // Names the process in the banner. The label is STACKDUMP_LABEL when set and non-empty, else
  // OTEL_SERVICE_NAME when set and non-empty, else "<role>-<pid>" (e.g. "stackhouse-run-1234").
  std::string_view role = "process";
  // Where dumps are written, with write(2) only.
  int outputFd = 2;
  // How long one thread may take to answer before it is listed as not answering. A dump takes
  // at most about this long per thread that does not answer.
  std::chrono::milliseconds answerTimeout{200};
};

// Installs the SIGUSR2 handler, the per-thread capture handler on a free real-time signal, the
// fork handlers, and starts the "stackdump" thread. Returns true when dumps work; on failure
// writes one line saying why to the output fd and returns false (the process carries on
// without dumps). A second call, from any thread, changes nothing and returns whether the
// first succeeded. A forked child re-arms itself (new thread, new pipes, its own pid in a
// default label); signalling the parent dumps only the parent.
bool install(const Options& options);
bool install(std::string_view role);

// The label in the banner, as computed by install() (in a forked child: with the child's pid).
// Empty before install().
std::string label();

// True while both SIGUSR2 and the capture signal still run our handlers. Another library may
// have replaced them since install(): check after initialising such libraries.
bool handlerIsOurs();

// Puts our SIGUSR2 handler back if something replaced it. If the capture signal's handler was
// replaced, the other owner keeps that signal and a new free real-time signal is chosen.
// Returns handlerIsOurs() afterwards (false also before install()).
bool reinstall();

// The real-time signal used to capture each thread's stack (SIGRTMIN + 1 or above); 0 before
// install() or when none was free. Threads that block it are listed as not answering.
int dumpSignal();

// Runs one dump as SIGUSR2 would and returns once a dump that started after this call has been
// written. Meant for tests and for callers that want a dump at a point of their choosing.
// Returns false before install() and when called on the "stackdump" thread.
bool dumpNow();

// Asks the dumping thread to capture and symbolise every thread once, writing nothing, so that
// the symbol tables and DWARF a dump needs are read ahead of the first real one (reading them
// can take seconds in a large binary). Call once the process has started its threads. Returns
// at once; false when not installed.
bool warmUp();

}  // namespace stackhouse::stackdump
