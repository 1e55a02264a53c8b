#include "stackdump/thread_capture.h"

// Local unwinding only: the library unwinds its own process, never another one through ptrace.
#define UNW_LOCAL_ONLY
#include <fcntl.h>
#include <libunwind.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

namespace stackhouse::stackdump::detail {
namespace {

enum Phase : std::uint64_t { kIdle = 0, kRequested = 1, kWriting = 2, kDone = 3 };
constexpr std::uint64_t kPhaseMask = 3;

constexpr std::uint64_t packState(pid_t tid, Phase phase) {
  return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(tid)) << 2) | phase;
}

// The one request in flight. The dumping thread writes `state` to ask a thread; that thread's
// capture handler fills pcs/exact/count/truncated, then publishes kDone with release order, and
// the dumping thread reads them after an acquire load of kDone.
struct Slot {
  // (tid << 2) | phase in one word, so a handler claims the slot only for the very request
  // addressed to its own thread: a late signal from an abandoned request (the thread had the
  // signal blocked, then unblocked it) finds another tid or phase and leaves without touching it.
  std::atomic<std::uint64_t> state{0};
  std::atomic<int> answerWriteFd{-1};
  int answerReadFd = -1;  // dumping thread only
  int count = 0;
  bool truncated = false;
  std::uintptr_t pcs[kMaxFrames] = {};
  bool exact[kMaxFrames] = {};
};
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
static_assert(std::atomic<int>::is_always_lock_free);

// Constant-initialised, so the handler never runs before it exists or after it is destroyed.
constinit Slot slot;

// Walks the stack from `context` into `pcs` and `exact` (kMaxFrames each). Async-signal-safe:
// libunwind's local unwinding with caching off takes no lock of its own and allocates nothing.
// Its one locking step is glibc's dl_iterate_phdr, whose lock is recursive (so a thread
// interrupted inside it can still unwind) and is held only briefly by running threads.
void unwindInto(unw_context_t* context, bool signalFrame, std::uintptr_t* pcs, bool* exact,
                int& count, bool& truncated) {
  count = 0;
  truncated = false;
  unw_cursor_t cursor;
  const int initialised = signalFrame ? unw_init_local2(&cursor, context, UNW_INIT_SIGNAL_FRAME)
                                      : unw_init_local(&cursor, context);
  if (initialised < 0) return;
  // From a signal context frame #0 is the interrupted instruction itself; from unw_getcontext
  // it is a return address.
  bool nextExact = signalFrame;
  for (;;) {
    unw_word_t ip = 0;
    if (unw_get_reg(&cursor, UNW_REG_IP, &ip) < 0 || ip == 0) return;
    if (count == kMaxFrames) {
      truncated = true;
      return;
    }
    pcs[count] = ip;
    exact[count] = nextExact;
    ++count;
    // The frame a signal trampoline returns into was interrupted, not calling.
    nextExact = unw_is_signal_frame(&cursor) > 0;
    if (unw_step(&cursor) <= 0) return;
  }
}

void onCaptureSignal(int /*signal*/, siginfo_t* /*info*/, void* context) {
  const int savedErrno = errno;
  const pid_t self = gettid();
  std::uint64_t expected = packState(self, kRequested);
  if (slot.state.compare_exchange_strong(expected, packState(self, kWriting),
                                         std::memory_order_acquire)) {
    // On x86-64 unw_context_t is ucontext_t, which is what the kernel hands a SA_SIGINFO
    // handler; starting there (rather than at unw_getcontext here) leaves the handler's own
    // frames out, so frame #0 is the interrupted function.
    unwindInto(static_cast<unw_context_t*>(context), true, slot.pcs, slot.exact, slot.count,
               slot.truncated);
    slot.state.store(packState(self, kDone), std::memory_order_release);
    const char answer = 0;
    [[maybe_unused]] const ssize_t written =
        write(slot.answerWriteFd.load(std::memory_order_relaxed), &answer, 1);
  }
  errno = savedErrno;
}

void drainAnswers() {
  char buffer[64];
  while (read(slot.answerReadFd, buffer, sizeof(buffer)) > 0) {
  }
}

// Waits until no handler is writing into the slot, so a new request may be made. A handler
// that claimed an abandoned request normally finishes within microseconds of running.
bool waitUntilSlotFree(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const std::uint64_t state = slot.state.load(std::memory_order_acquire);
    if ((state & kPhaseMask) != kWriting) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    poll(nullptr, 0, 1);
  }
}

void copyOut(Stack& stack) {
  stack.frames.clear();
  for (int i = 0; i < slot.count; ++i) stack.frames.push_back({slot.pcs[i], slot.exact[i]});
  stack.truncated = slot.truncated;
}

}  // namespace

int installCaptureHandler() {
  // Caching off: the per-thread cache is not reentrant (a thread interrupted inside libunwind
  // would share it with its own handler) and the global cache takes a lock.
  unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_NONE);
  for (int signal = SIGRTMIN + 1; signal <= SIGRTMAX; ++signal) {
    struct sigaction current = {};
    if (sigaction(signal, nullptr, &current) != 0) continue;
    if ((current.sa_flags & SA_SIGINFO) != 0 || current.sa_handler != SIG_DFL) continue;
    struct sigaction action = {};
    action.sa_sigaction = onCaptureSignal;
    // SA_RESTART: the interrupted thread's read() or poll() goes on as if nothing happened.
    // SA_ONSTACK: a thread with an alternate signal stack (one near a stack overflow) unwinds
    // there rather than deeper into its own stack.
    action.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
    // Nothing else nests into a capture, except the synchronous faults, which must still
    // reach whatever crash handler the process has.
    sigfillset(&action.sa_mask);
    for (int fault : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT}) sigdelset(&action.sa_mask, fault);
    if (sigaction(signal, &action, nullptr) == 0) return signal;
  }
  return 0;
}

bool captureHandlerInstalled(int signal) {
  if (signal <= 0) return false;
  struct sigaction current = {};
  if (sigaction(signal, nullptr, &current) != 0) return false;
  return (current.sa_flags & SA_SIGINFO) != 0 && current.sa_sigaction == onCaptureSignal;
}

bool openAnswerPipe() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) return false;
  const int oldRead = slot.answerReadFd;
  const int oldWrite = slot.answerWriteFd.exchange(fds[1]);
  slot.answerReadFd = fds[0];
  if (oldRead >= 0) close(oldRead);
  if (oldWrite >= 0) close(oldWrite);
  return true;
}

void resetCaptureAfterFork() { slot.state.store(packState(0, kIdle), std::memory_order_relaxed); }

CaptureResult captureThread(pid_t tid, int signal, std::chrono::milliseconds timeout,
                            Stack& stack) {
  stack.frames.clear();
  stack.truncated = false;
  if (!waitUntilSlotFree(timeout)) return CaptureResult::kSlotBusy;
  drainAnswers();
  slot.state.store(packState(tid, kRequested), std::memory_order_release);
  if (tgkill(getpid(), tid, signal) != 0) {
    const int error = errno;
    slot.state.store(packState(0, kIdle), std::memory_order_relaxed);
    return error == ESRCH ? CaptureResult::kGone : CaptureResult::kSignalError;
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (slot.state.load(std::memory_order_acquire) == packState(tid, kDone)) {
      copyOut(stack);
      slot.state.store(packState(0, kIdle), std::memory_order_relaxed);
      drainAnswers();
      return CaptureResult::kCaptured;
    }
    const auto left =
        std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd answer = {slot.answerReadFd, POLLIN, 0};
    poll(&answer, 1, static_cast<int>(left.count()));
    drainAnswers();
  }
  // Withdraw the request, unless the handler claimed it in the meantime: then it is about to
  // finish, and its answer is worth the short wait.
  std::uint64_t expected = packState(tid, kRequested);
  if (slot.state.compare_exchange_strong(expected, packState(0, kIdle),
                                         std::memory_order_acq_rel)) {
    return CaptureResult::kTimedOut;
  }
  if (!waitUntilSlotFree(timeout)) return CaptureResult::kTimedOut;
  if (slot.state.load(std::memory_order_acquire) != packState(tid, kDone)) {
    return CaptureResult::kTimedOut;
  }
  copyOut(stack);
  slot.state.store(packState(0, kIdle), std::memory_order_relaxed);
  drainAnswers();
  return CaptureResult::kCaptured;
}

void captureSelf(Stack& stack) {
  std::uintptr_t pcs[kMaxFrames];
  bool exact[kMaxFrames];
  int count = 0;
  unw_context_t context;
  unw_getcontext(&context);
  unwindInto(&context, false, pcs, exact, count, stack.truncated);
  stack.frames.clear();
  for (int i = 0; i < count; ++i) stack.frames.push_back({pcs[i], exact[i]});
}

}  // namespace stackhouse::stackdump::detail
