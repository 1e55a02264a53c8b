// gzip for tests: compresses `n` bytes produced by `fill` in streaming fashion.
#pragma once

#include <zlib.h>

#include <string>
#include <string_view>

namespace stackhouse::testing {

inline std::string gzip(std::string_view data) {
  z_stream zs{};
  deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, data.size()) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

// A gzip body that inflates to `bytes` zero bytes (a "bomb", ~1000x smaller than its output):
// one member of 1 MiB of zeros, repeated (gzip allows concatenated members), so making it costs
// nothing even for a gigabyte.
inline std::string gzipZeros(size_t bytes) {
  constexpr size_t kMember = 1 << 20;
  const std::string member = gzip(std::string(kMember, '\0'));
  std::string out;
  out.reserve(member.size() * (bytes / kMember + 1));
  for (size_t done = 0; done < bytes; done += kMember) out += member;
  return out;
}

}  // namespace stackhouse::testing
