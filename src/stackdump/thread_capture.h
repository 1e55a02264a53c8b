// Capturing one thread's stack from inside that thread.
//
// The dumping thread sends the capture signal to one thread with tgkill(2) and waits. The
// signal's handler, running on the target thread, walks its own stack with libunwind from the
// interrupted context into a preallocated slot (no malloc, no locks, errno preserved) and answers
// with one byte on a pipe. Only one request is outstanding at a time: the dumping thread is the
// only caller of CaptureChannel::capture().
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <vector>

namespace stackhouse::stackdump::detail {

// Deeper stacks are cut here and marked truncated.
inline constexpr int kMaxFrames = 128;

struct Frame {
  std::uintptr_t pc = 0;
  // True when pc is the interrupted instruction itself (frame #0, or the frame a nested signal
  // interrupted). False when pc is a return address: symbols are then looked up at pc - 1, which
  // lies inside the call instruction, so the line is the call's and not the next statement's.
  bool exact = false;
};

struct Stack {
  std::vector<Frame> frames;  // innermost first
  bool truncated = false;     // the stack had more than kMaxFrames frames
};

enum class CaptureResult {
  kCaptured,     // the thread answered; the stack is filled in
  kTimedOut,     // no answer within the timeout (signal blocked since, or stuck in the kernel)
  kGone,         // the thread exited before it could be signalled
  kSignalError,  // tgkill failed for another reason (e.g. the queue of pending signals is full)
  kSlotBusy      // an earlier thread's late answer is still being written; nobody was asked
};

// The capture state is process-wide (the signal handler reaches it through globals), so these
// are free functions over one hidden channel.

// Chooses the capture signal: the first real-time signal from SIGRTMIN + 1 upward whose
// disposition is SIG_DFL (so it belongs to nobody), and installs the handler on it. SIGRTMIN
// itself is never used: ClickHouse (chDB) installs its own stack-collection handler there.
// Returns the signal, or 0 when none is free. Call with no capture in progress.
int installCaptureHandler();

// True while `signal`'s disposition is still our capture handler.
bool captureHandlerInstalled(int signal);

// Opens the answer pipe, replacing a previous one (a forked child must not share its parent's
// pipe; the old descriptors are closed). Returns false when pipe2 fails.
bool openAnswerPipe();

// Forgets any request in flight. Only for a forked child, whose copy of the slot may hold a
// request of the parent's dumping thread, which does not exist in the child.
void resetCaptureAfterFork();

// Asks thread `tid` of this process for its stack and waits at most `timeout` for the answer.
// Called only by the dumping thread, one call at a time.
CaptureResult captureThread(pid_t tid, int signal, std::chrono::milliseconds timeout, Stack& stack);

// The calling thread's own stack, innermost first (the dumping thread lists itself this way).
void captureSelf(Stack& stack);

}  // namespace stackhouse::stackdump::detail
