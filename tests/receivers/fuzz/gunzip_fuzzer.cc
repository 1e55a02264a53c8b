// libFuzzer target for the bounded gzip inflation of request bodies: any input either inflates
// within the limit or fails with a clear status; never more output than the limit.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "receivers/decompress.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  constexpr uint64_t kLimit = 1 << 20;
  std::string out;
  const auto status = stackhouse::receivers::gunzip(
      std::string_view(reinterpret_cast<const char*>(data), size), kLimit, out);
  if (status.isOk() ? out.size() > kLimit : !out.empty()) std::abort();
  return 0;
}
