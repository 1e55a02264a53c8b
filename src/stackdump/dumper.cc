#include "stackdump/dumper.h"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <vector>

#include "stackdump/proc_threads.h"
#include "stackdump/thread_capture.h"

namespace stackhouse::stackdump::detail {
namespace {

enum class Outcome {
  kCaptured,
  kTimedOut,
  kBlocked,       // the thread blocks the capture signal: asking would only queue a signal
  kStillPending,  // an earlier dump's signal is still queued, undelivered
  kExited,
  kSignalError,
  kSlotBusy,
  kNoSignal,
};

struct ThreadResult {
  pid_t tid = 0;
  std::string name;
  Outcome outcome = Outcome::kCaptured;
  Stack stack;
};

Outcome fromCapture(CaptureResult result) {
  switch (result) {
    case CaptureResult::kCaptured: return Outcome::kCaptured;
    case CaptureResult::kTimedOut: return Outcome::kTimedOut;
    case CaptureResult::kGone: return Outcome::kExited;
    case CaptureResult::kSignalError: return Outcome::kSignalError;
    case CaptureResult::kSlotBusy: return Outcome::kSlotBusy;
  }
  return Outcome::kSignalError;
}

// Decides from /proc whether asking the thread can work, and asks it if so. Threads that block
// the signal are not sent one: it would wait, queued, until they unblock it, and every further
// dump would queue another (real-time signals queue up to RLIMIT_SIGPENDING).
void captureOne(const DumpRequest& request, pid_t self, ThreadResult& result) {
  if (result.tid == self) {
    captureSelf(result.stack);
    return;
  }
  if (request.signal == 0) {
    result.outcome = Outcome::kNoSignal;
    return;
  }
  const ThreadStatus status = readThreadStatus(result.tid);
  if (status.valid) {
    if (status.exited()) {
      result.outcome = Outcome::kExited;
      return;
    }
    if (status.blocks(request.signal)) {
      result.outcome = Outcome::kBlocked;
      return;
    }
    if (status.hasPending(request.signal)) {
      result.outcome = Outcome::kStillPending;
      return;
    }
  }
  result.outcome =
      fromCapture(captureThread(result.tid, request.signal, request.answerTimeout, result.stack));
}

void appendFrameLine(std::string& text, int index, const Frame& frame, const Location& location,
                     const FrameDescription& description) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "  #%d ", index);
  text += buffer;
  const bool known = !location.function.empty();
  if (known) {
    text += location.function;
  } else {
    std::snprintf(buffer, sizeof(buffer), "?? (0x%" PRIxPTR ")", frame.pc);
    text += buffer;
  }
  if (!location.file.empty()) {
    text += " at ";
    text += location.file;
    std::snprintf(buffer, sizeof(buffer), ":%d", location.line);
    text += buffer;
  } else if (!description.module.empty()) {
    text += " in ";
    text += description.module;
    std::snprintf(buffer, sizeof(buffer), "+0x%" PRIxPTR, description.moduleOffset);
    text += buffer;
  }
  if (location.inlined) text += " [inlined]";
  text += '\n';
}

void appendBlock(std::string& text, const ThreadResult& thread, const DumpRequest& request,
                 Symbolizer& symbolizer) {
  char buffer[160];
  text += "Thread \"";
  text += thread.name.empty() ? "?" : thread.name;
  std::snprintf(buffer, sizeof(buffer), "\" (tid %d)", static_cast<int>(thread.tid));
  text += buffer;
  switch (thread.outcome) {
    case Outcome::kCaptured: break;
    case Outcome::kTimedOut:
      std::snprintf(buffer, sizeof(buffer),
                    ": did not answer within %lld ms (signal blocked or stuck in the kernel)\n",
                    static_cast<long long>(request.answerTimeout.count()));
      text += buffer;
      return;
    case Outcome::kBlocked:
      std::snprintf(buffer, sizeof(buffer),
                    ": did not answer: it blocks the dump signal (SIGRTMIN+%d)\n",
                    request.signal - SIGRTMIN);
      text += buffer;
      return;
    case Outcome::kStillPending:
      text +=
          ": did not answer: an earlier dump's signal is still pending "
          "(signal blocked or stuck in the kernel)\n";
      return;
    case Outcome::kExited: text += ": exited during the dump\n"; return;
    case Outcome::kSignalError: text += ": could not be signalled (tgkill failed)\n"; return;
    case Outcome::kSlotBusy:
      text += ": not asked: a late answer from another thread was still being written\n";
      return;
    case Outcome::kNoSignal:
      text += ": not asked: no free real-time signal to capture stacks with\n";
      return;
  }
  text += " (most recent call first):\n";
  if (thread.stack.frames.empty()) text += "  (no frames: unwinding failed)\n";
  int index = 0;
  for (const Frame& frame : thread.stack.frames) {
    const FrameDescription description = symbolizer.describe(frame);
    for (const Location& location : description.locations) {
      appendFrameLine(text, index++, frame, location, description);
    }
  }
  if (thread.stack.truncated) {
    std::snprintf(buffer, sizeof(buffer), "  ... (cut after %d machine frames)\n", kMaxFrames);
    text += buffer;
  }
}

}  // namespace

bool writeAll(int fd, std::string_view text) {
  // A reader that takes nothing for this long is not reading: give up rather than hang the
  // dumping thread forever.
  constexpr int kStallMs = 2000;
  while (!text.empty()) {
    const ssize_t n = write(fd, text.data(), text.size());
    if (n > 0) {
      text.remove_prefix(static_cast<size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && errno == EAGAIN) {
      pollfd out = {fd, POLLOUT, 0};
      if (poll(&out, 1, kStallMs) <= 0) return false;
    } else {
      return false;
    }
  }
  return true;
}

void Dumper::dump(const DumpRequest& request) {
  const auto started = std::chrono::steady_clock::now();
  text_.clear();
  text_ += "USR2 signal received [";
  text_ += request.label;
  text_ += "]; dumping thread stacks\nUSR2 triggered stack trace:\n\n";
  // The banner goes out before any capture, so even a dump that cannot finish says it began.
  const bool silent = request.outputFd < 0;  // a warm-up
  if (!silent) writeAll(request.outputFd, text_);
  text_.clear();

  const pid_t self = gettid();
  std::vector<ThreadResult> threads;
  for (pid_t tid : listThreads()) {
    ThreadResult& result = threads.emplace_back();
    result.tid = tid;
    result.name = readThreadName(tid);
    captureOne(request, self, result);
  }

  // Capture first, symbolise after: libdw's work (reading symbol tables and DWARF, possibly
  // for the first time) must not stretch the moments between one thread's stack and the next.
  symbolizer_.refresh();
  int answered = 0;
  for (const ThreadResult& thread : threads) {
    appendBlock(text_, thread, request, symbolizer_);
    text_ += '\n';
    if (thread.outcome == Outcome::kCaptured) ++answered;
  }
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  char buffer[128];
  std::snprintf(buffer, sizeof(buffer), "]: %d threads, %d answered, %lld ms\n",
                static_cast<int>(threads.size()), answered,
                static_cast<long long>(elapsed.count()));
  text_ += "USR2 stack trace done [";
  text_ += request.label;
  text_ += buffer;
  if (!silent) writeAll(request.outputFd, text_);
}

}  // namespace stackhouse::stackdump::detail
