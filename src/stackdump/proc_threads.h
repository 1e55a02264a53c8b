// What /proc says about this process's threads. Used only by the dumping thread (these
// functions allocate).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace stackhouse::stackdump::detail {

// The thread ids in /proc/self/task: the main thread (whose tid is the pid) first, then the others
// ascending (after pids wrap around, a later thread's tid can be below the pid).
std::vector<pid_t> listThreads();

// The name set with pthread_setname_np (/proc/self/task/<tid>/comm), without the newline;
// empty when the thread is gone.
std::string readThreadName(pid_t tid);

struct ThreadStatus {
  char state = '?';           // "State:" letter: R, S, D, T, t, Z, X...
  std::uint64_t blocked = 0;  // "SigBlk:", bit n - 1 for signal n
  std::uint64_t pending = 0;  // "SigPnd:", signals pending for this thread alone
  bool valid = false;         // false when the file could not be read or parsed

  bool blocks(int signal) const { return (blocked >> (signal - 1)) & 1U; }
  bool hasPending(int signal) const { return (pending >> (signal - 1)) & 1U; }
  // A zombie or dead thread has exited; it runs no more handlers.
  bool exited() const { return state == 'Z' || state == 'X'; }
};

// Parses the text of /proc/<pid>/task/<tid>/status.
ThreadStatus parseThreadStatus(std::string_view text);

ThreadStatus readThreadStatus(pid_t tid);

}  // namespace stackhouse::stackdump::detail
