#include "sinks/common/compress.h"

#include <zlib.h>

#include <cstdint>
#include <stdexcept>

namespace stackhouse::sinks {

void gzipCompress(std::string_view in, std::string& out) {
  z_stream stream{};
  // windowBits 15 + 16: a gzip header and trailer rather than zlib's.
  if (deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    throw std::bad_alloc();
  }
  out.resize(deflateBound(&stream, static_cast<uLong>(in.size())) + 32);
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  stream.avail_in = static_cast<uInt>(in.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  // deflateBound is an upper bound for a single Z_FINISH call, so one call completes.
  const int rc = deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  if (rc != Z_STREAM_END) throw std::logic_error("gzip: deflate did not finish within its bound");
}

}  // namespace stackhouse::sinks
