#pragma once

#include <string_view>

namespace stackhouse {

// Names the calling thread (at most 15 bytes are kept, as the kernel allows). Every thread we
// start calls this first, so stack dumps, top -H and our logs say what each thread does.
void setThreadName(std::string_view name);

}  // namespace stackhouse
