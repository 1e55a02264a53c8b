// Request body decompression with a hard limit on the output, checked as it inflates: a small
// compressed body that expands without bound (a gzip bomb) never allocates more than the limit.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace stackhouse::receivers {

// Inflates a gzip (or zlib) body into `out` (replacing its contents). Concatenated gzip members
// are all inflated. Errors: kResourceExhausted when the output would pass `maxBytes`,
// kInvalidArgument when the data is not valid gzip.
Status gunzip(std::string_view in, uint64_t maxBytes, std::string& out);

}  // namespace stackhouse::receivers
