// One dump: every thread's stack, captured, symbolised and written out.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "stackdump/symbolizer.h"

namespace stackhouse::stackdump::detail {

struct DumpRequest {
  std::string_view label;                   // shown in the banner
  int outputFd = 2;                         // written with write(2) only
  int signal = 0;                           // the capture signal; 0 when none is usable
  std::chrono::milliseconds answerTimeout;  // per thread
};

// Owned and used by the dumping thread only. Keeps the symbolizer (and so the symbol tables it
// has read) from one dump to the next.
class Dumper {
 public:
  // Writes the banner at once, then captures every thread one at a time, then symbolises and
  // writes the blocks and a closing line. Takes at most about answerTimeout per thread that
  // does not answer; never waits on another thread otherwise.
  void dump(const DumpRequest& request);

 private:
  Symbolizer symbolizer_;
  std::string text_;  // reused between dumps
};

// Writes all of `text` to `fd`, retrying short writes and EINTR, and waiting (boundedly) when
// the descriptor is non-blocking and full. Returns false when the descriptor refuses.
bool writeAll(int fd, std::string_view text);

}  // namespace stackhouse::stackdump::detail
