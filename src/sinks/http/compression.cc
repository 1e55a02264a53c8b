#include "sinks/http/compression.h"

#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <memory>

namespace stackhouse::sinks::http {
namespace {

constexpr size_t kChunk = 256 << 10;

Status gzipCompress(std::string_view in, std::string& out, int level) {
  z_stream z{};
  // 15 + 16: a gzip wrapper rather than zlib's.
  if (deflateInit2(&z, level == 0 ? 6 : level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return internalError("gzip: cannot initialise the compressor");
  out.resize(deflateBound(&z, static_cast<uLong>(in.size())) + 32);
  size_t produced = 0;
  std::string_view rest = in;
  int rc = Z_OK;
  do {
    // zlib counts in uInt: feed at most 1 GiB at a time.
    size_t take = std::min<size_t>(rest.size(), size_t{1} << 30);
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(rest.data()));
    z.avail_in = static_cast<uInt>(take);
    rest.remove_prefix(take);
    int flush = rest.empty() ? Z_FINISH : Z_NO_FLUSH;
    do {
      if (out.size() - produced < kChunk) out.resize(out.size() + kChunk);
      size_t room = std::min<size_t>(out.size() - produced, size_t{1} << 30);
      z.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
      z.avail_out = static_cast<uInt>(room);
      rc = deflate(&z, flush);
      produced += room - z.avail_out;
      if (rc == Z_STREAM_ERROR) {
        deflateEnd(&z);
        return internalError("gzip: compression failed");
      }
    } while (z.avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
  } while (!rest.empty());
  deflateEnd(&z);
  out.resize(produced);
  return Status::ok();
}

Status gzipDecompress(std::string_view in, uint64_t maxBytes, std::string& out) {
  out.clear();
  z_stream z{};
  // 15 + 32: gzip or zlib, detected from the header.
  if (inflateInit2(&z, 15 + 32) != Z_OK) return internalError("gzip: cannot initialise");
  std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&z, inflateEnd);
  std::string_view rest = in;  // not yet handed to zlib
  char buffer[kChunk / 4];
  while (true) {
    if (z.avail_in == 0 && !rest.empty()) {
      // zlib counts in uInt: hand it at most 1 GiB at a time.
      size_t take = std::min<size_t>(rest.size(), size_t{1} << 30);
      z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(rest.data()));
      z.avail_in = static_cast<uInt>(take);
      rest.remove_prefix(take);
    }
    z.next_out = reinterpret_cast<Bytef*>(buffer);
    z.avail_out = sizeof(buffer);
    int rc = inflate(&z, Z_NO_FLUSH);
    size_t got = sizeof(buffer) - z.avail_out;
    if (out.size() + got > maxBytes)
      return resourceExhausted("gzip: the data inflates past " + std::to_string(maxBytes) +
                               " bytes");
    out.append(buffer, got);
    bool inputLeft = z.avail_in > 0 || !rest.empty();
    if (rc == Z_STREAM_END) {
      if (!inputLeft) return Status::ok();
      // Another gzip member follows.
      if (inflateReset(&z) != Z_OK) return internalError("gzip: reset failed");
      continue;
    }
    if (rc == Z_BUF_ERROR) {
      // No progress was possible: with the input all read, the stream was cut short.
      if (!inputLeft) return invalidArgument("gzip: the data ends before its stream does");
      if (z.avail_in > 0 && got == 0) return invalidArgument("gzip: the data is not valid gzip");
      continue;
    }
    if (rc != Z_OK) return invalidArgument("gzip: the data is not valid gzip");
    if (!inputLeft && z.avail_out > 0)
      return invalidArgument("gzip: the data ends before its stream does");
  }
}

Status zstdCompress(std::string_view in, std::string& out, int level) {
  out.resize(ZSTD_compressBound(in.size()));
  size_t n = ZSTD_compress(out.data(), out.size(), in.data(), in.size(), level == 0 ? 3 : level);
  if (ZSTD_isError(n) != 0) return internalError(std::string("zstd: ") + ZSTD_getErrorName(n));
  out.resize(n);
  return Status::ok();
}

Status zstdDecompress(std::string_view in, uint64_t maxBytes, std::string& out) {
  out.clear();
  std::unique_ptr<ZSTD_DStream, size_t (*)(ZSTD_DStream*)> d(ZSTD_createDStream(),
                                                             ZSTD_freeDStream);
  if (!d) return internalError("zstd: cannot initialise");
  ZSTD_initDStream(d.get());
  ZSTD_inBuffer input{in.data(), in.size(), 0};
  char buffer[kChunk / 4];
  size_t last = 0;
  while (input.pos < input.size) {
    ZSTD_outBuffer output{buffer, sizeof(buffer), 0};
    last = ZSTD_decompressStream(d.get(), &output, &input);
    if (ZSTD_isError(last) != 0) return invalidArgument("zstd: the data is not valid zstd");
    if (out.size() + output.pos > maxBytes)
      return resourceExhausted("zstd: the data inflates past " + std::to_string(maxBytes) +
                               " bytes");
    out.append(buffer, output.pos);
  }
  // Drain what the decoder still holds once the input is consumed.
  while (last != 0) {
    ZSTD_outBuffer output{buffer, sizeof(buffer), 0};
    last = ZSTD_decompressStream(d.get(), &output, &input);
    if (ZSTD_isError(last) != 0) return invalidArgument("zstd: the data is not valid zstd");
    if (out.size() + output.pos > maxBytes)
      return resourceExhausted("zstd: the data inflates past " + std::to_string(maxBytes) +
                               " bytes");
    out.append(buffer, output.pos);
    if (output.pos == 0) return invalidArgument("zstd: the data ends before its frame does");
  }
  return Status::ok();
}

}  // namespace

std::optional<Compression> parseCompression(std::string_view name) {
  if (name == "none") return Compression::kNone;
  if (name == "gzip") return Compression::kGzip;
  if (name == "zstd") return Compression::kZstd;
  return std::nullopt;
}

std::string_view compressionName(Compression compression) {
  switch (compression) {
    case Compression::kNone: return "";
    case Compression::kGzip: return "gzip";
    case Compression::kZstd: return "zstd";
  }
  return "";
}

Status compress(Compression compression, std::string_view in, std::string& out, int level) {
  switch (compression) {
    case Compression::kNone: out.assign(in); return Status::ok();
    case Compression::kGzip: return gzipCompress(in, out, level);
    case Compression::kZstd: return zstdCompress(in, out, level);
  }
  return internalError("unknown compression");
}

Status decompress(Compression compression, std::string_view in, uint64_t maxBytes,
                  std::string& out) {
  switch (compression) {
    case Compression::kNone:
      if (in.size() > maxBytes)
        return resourceExhausted("the data is larger than " + std::to_string(maxBytes) + " bytes");
      out.assign(in);
      return Status::ok();
    case Compression::kGzip: return gzipDecompress(in, maxBytes, out);
    case Compression::kZstd: return zstdDecompress(in, maxBytes, out);
  }
  return internalError("unknown compression");
}

}  // namespace stackhouse::sinks::http
