// Program counters to function, file and line, with libdw (elfutils). Used only by the dumping
// thread, after every thread's stack has been captured: libdw allocates and takes locks, which
// is fine there and never in a signal handler.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "stackdump/thread_capture.h"

struct Dwfl;

namespace stackhouse::stackdump::detail {

// One source-level frame. A machine frame yields several when calls were inlined into it.
struct Location {
  std::string function;  // demangled; empty when the address has no symbol
  std::string file;      // empty when there is no line information
  int line = 0;
  bool inlined = false;  // inlined into the next Location of the same machine frame
};

struct FrameDescription {
  std::vector<Location> locations;  // innermost first, at least one
  std::string module;               // file name of the ELF object; empty when none maps the pc
  std::uintptr_t moduleOffset = 0;  // pc relative to the module's load bias (what addr2line takes)
};

class Symbolizer {
 public:
  Symbolizer() = default;
  ~Symbolizer();
  Symbolizer(const Symbolizer&) = delete;
  Symbolizer& operator=(const Symbolizer&) = delete;

  // Re-reads the process's mappings (/proc/<pid>/maps): call at the start of each dump, since
  // libraries may have been loaded or unloaded since the last. Modules already known keep their
  // loaded symbol tables and DWARF, so only the first dump pays for reading them.
  void refresh();

  // Cached by program counter: threads share most frames, and expanding inlined calls walks a
  // whole compilation unit's DWARF (tens of milliseconds in a large one), so each address is
  // described once and reused by later threads and later dumps.
  FrameDescription describe(const Frame& frame);

 private:
  FrameDescription describeUncached(const Frame& frame);

  Dwfl* dwfl_ = nullptr;  // owned; null when libdw could not start
  std::unordered_map<std::uintptr_t, FrameDescription> cache_;  // key: pc * 2 + exact
};

// The demangled form of a C++ symbol, or the name itself when it is not a mangled name.
std::string demangle(const char* name);

}  // namespace stackhouse::stackdump::detail
