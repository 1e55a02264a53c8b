#include "receivers/decompress.h"

#include <zlib.h>

#include <algorithm>

namespace stackhouse::receivers {

Status gunzip(std::string_view in, uint64_t maxBytes, std::string& out) {
  out.clear();
  z_stream zs{};
  // 15 window bits + 32: detect gzip or zlib headers.
  if (inflateInit2(&zs, 15 + 32) != Z_OK) return internalError("cannot start inflating");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  // Start near a typical compression ratio, grow by doubling, never past the limit (+1 byte so
  // that reaching exactly the limit is allowed and passing it is detected).
  size_t capacity = std::min<uint64_t>(std::max<size_t>(in.size() * 4, 4096), maxBytes + 1);
  out.resize(capacity);
  size_t produced = 0;
  Status status;
  while (true) {
    if (produced == out.size()) {
      if (out.size() >= maxBytes + 1) {
        status = resourceExhausted("the decompressed body exceeds the limit of " +
                                   std::to_string(maxBytes) + " bytes");
        break;
      }
      out.resize(std::min<uint64_t>(out.size() * 2, maxBytes + 1));
    }
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    zs.avail_out = static_cast<uInt>(out.size() - produced);
    const int rc = inflate(&zs, Z_NO_FLUSH);
    produced = out.size() - zs.avail_out;
    if (produced > maxBytes) {
      status = resourceExhausted("the decompressed body exceeds the limit of " +
                                 std::to_string(maxBytes) + " bytes");
      break;
    }
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0) break;
      // Another gzip member follows.
      if (inflateReset(&zs) != Z_OK) {
        status = invalidArgument("invalid gzip data");
        break;
      }
      continue;
    }
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) {
      status = invalidArgument("truncated gzip data");
      break;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      status = invalidArgument("invalid gzip data");
      break;
    }
  }
  inflateEnd(&zs);
  if (!status.isOk()) {
    out.clear();
    return status;
  }
  out.resize(produced);
  return Status::ok();
}

}  // namespace stackhouse::receivers
