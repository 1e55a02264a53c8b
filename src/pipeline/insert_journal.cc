#include "pipeline/insert_journal.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "telemetry/batch_codec.h"

namespace stackhouse::pipeline {

namespace {

// File layout (little-endian, as written by this machine):
//   "SHJRNL01"
//   u32 signal (0 logs, 1 traces, 2 metrics), u32 token length, token bytes
//   u32 key count, count x (u64 hi, u64 lo)
//   u32 batch count, then per batch: u64 buffer count, per buffer: u64 length, bytes
//   u64 record length (this footer included), "SHJEND01"
constexpr char kMagic[8] = {'S', 'H', 'J', 'R', 'N', 'L', '0', '1'};
constexpr char kEnd[8] = {'S', 'H', 'J', 'E', 'N', 'D', '0', '1'};
constexpr size_t kFooterBytes = 16;
constexpr uint32_t kLogs = 0, kTraces = 1, kMetrics = 2;

template <typename T>
void put(std::vector<uint8_t>& out, T v) {
  const size_t at = out.size();
  out.resize(at + sizeof(T));
  std::memcpy(out.data() + at, &v, sizeof(T));
}

Status ioError(std::string_view what) {
  return unavailable("insert journal: " + std::string(what) + ": " + std::strerror(errno));
}

// Writes every iovec at `offset`, through partial writes.
bool pwriteAll(int fd, std::vector<iovec>& iov, off_t offset) {
  size_t first = 0;
  while (first < iov.size()) {
    const int count = static_cast<int>(std::min<size_t>(iov.size() - first, IOV_MAX));
    const ssize_t n = ::pwritev(fd, iov.data() + first, count, offset);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    offset += n;
    auto left = static_cast<size_t>(n);
    while (first < iov.size() && left >= iov[first].iov_len) left -= iov[first++].iov_len;
    if (left > 0) {
      iov[first].iov_base = static_cast<uint8_t*>(iov[first].iov_base) + left;
      iov[first].iov_len -= left;
    }
  }
  return true;
}

// Reads fields from the record, failing (and staying failed) past its end.
class Cursor {
 public:
  Cursor(const uint8_t* p, size_t n) : p_(p), end_(p + n) {}
  template <typename T>
  bool get(T& v) {
    if (static_cast<size_t>(end_ - p_) < sizeof(T)) return false;
    std::memcpy(&v, p_, sizeof(T));
    p_ += sizeof(T);
    return true;
  }
  bool bytes(size_t n, const uint8_t*& out) {
    if (static_cast<size_t>(end_ - p_) < n) return false;
    out = p_;
    p_ += n;
    return true;
  }
  bool atEnd() const { return p_ == end_; }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
};

Status malformed(std::string_view what) {
  return invalidArgument("the insert journal is malformed: " + std::string(what));
}

template <typename B>
Status readBatches(Cursor& in, uint32_t count, std::vector<std::unique_ptr<B>>& out) {
  for (uint32_t i = 0; i < count; ++i) {
    auto batch = std::make_unique<B>();
    uint64_t expected = 0;
    if (!in.get(expected)) return malformed("a batch header is cut short");
    uint64_t seen = 0;
    bool ok = true;
    telemetry::visitBatchBuffers(*batch, [&](telemetry::Buffer& buffer) {
      if (!ok) return;
      uint64_t length = 0;
      const uint8_t* data = nullptr;
      ok = ++seen <= expected && in.get(length) && in.bytes(length, data);
      if (ok) {
        buffer.clear();
        buffer.append(data, length);
      }
    });
    if (!ok || seen != expected) return malformed("a batch does not have the expected buffers");
    if (!telemetry::batchConsistent(*batch)) return malformed("a batch's columns do not agree");
    out.push_back(std::move(batch));
  }
  return Status::ok();
}

}  // namespace

Result<std::unique_ptr<InsertJournal>> InsertJournal::open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return ioError("cannot open");
  return std::unique_ptr<InsertJournal>(new InsertJournal(fd));
}

Result<std::optional<InsertJournal::Group>> InsertJournal::peek(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<Group>();
    return ioError("cannot open");
  }
  // recover() only reads; the journal closes the descriptor.
  InsertJournal journal(fd);
  return journal.recover();
}

InsertJournal::~InsertJournal() { ::close(fd_); }

template <typename B>
Status InsertJournal::writeGroup(uint32_t signal, std::string_view token,
                                 std::span<const RequestKey> keys,
                                 std::span<const B* const> batches) {
  std::vector<uint8_t> head;
  head.reserve(16 + token.size() + keys.size() * 16);
  head.insert(head.end(), kMagic, kMagic + sizeof kMagic);
  put<uint32_t>(head, signal);
  put<uint32_t>(head, static_cast<uint32_t>(token.size()));
  head.insert(head.end(), token.begin(), token.end());
  put<uint32_t>(head, static_cast<uint32_t>(keys.size()));
  for (const RequestKey& k : keys) {
    put<uint64_t>(head, k.hi);
    put<uint64_t>(head, k.lo);
  }
  put<uint32_t>(head, static_cast<uint32_t>(batches.size()));

  // The buffers are written from where they are; only the lengths are gathered, in a vector
  // sized up front so that the iovecs pointing into it stay valid. Every batch of a type has the
  // same buffers.
  size_t perBatch = 0;
  if (!batches.empty()) {
    telemetry::visitBatchBuffers(*batches.front(), [&](const telemetry::Buffer&) { ++perBatch; });
  }
  const size_t buffers = perBatch * batches.size();
  std::vector<uint64_t> lengths;
  lengths.reserve(buffers + batches.size() + 1);
  std::vector<iovec> iov;
  iov.reserve(2 * buffers + batches.size() + 3);
  uint64_t total = head.size() + kFooterBytes;
  iov.push_back({head.data(), head.size()});
  const auto addLength = [&](uint64_t value) {
    lengths.push_back(value);
    iov.push_back({&lengths.back(), sizeof(uint64_t)});
    total += sizeof(uint64_t);
  };
  for (const B* b : batches) {
    addLength(perBatch);
    telemetry::visitBatchBuffers(*b, [&](const telemetry::Buffer& buffer) {
      addLength(buffer.size());
      if (buffer.size() > 0) {
        iov.push_back({const_cast<uint8_t*>(buffer.data()), buffer.size()});
        total += buffer.size();
      }
    });
  }
  addLength(total);
  iov.push_back({const_cast<char*>(kEnd), sizeof kEnd});

  if (::ftruncate(fd_, 0) != 0) return ioError("cannot empty");
  if (!pwriteAll(fd_, iov, 0)) return ioError("cannot write");
  return Status::ok();
}

Status InsertJournal::write(std::string_view token, std::span<const RequestKey> keys,
                            std::span<const telemetry::LogBatch* const> batches) {
  return writeGroup(kLogs, token, keys, batches);
}
Status InsertJournal::write(std::string_view token, std::span<const RequestKey> keys,
                            std::span<const telemetry::SpanBatch* const> batches) {
  return writeGroup(kTraces, token, keys, batches);
}
Status InsertJournal::write(std::string_view token, std::span<const RequestKey> keys,
                            std::span<const telemetry::MetricBatch* const> batches) {
  return writeGroup(kMetrics, token, keys, batches);
}

Status InsertJournal::clear() {
  if (::ftruncate(fd_, 0) != 0) return ioError("cannot empty");
  return Status::ok();
}

Result<std::optional<InsertJournal::Group>> InsertJournal::recover() {
  struct stat st = {};
  if (::fstat(fd_, &st) != 0) return ioError("cannot stat");
  const auto size = static_cast<size_t>(st.st_size);
  if (size == 0) return std::optional<Group>();
  std::vector<uint8_t> data(size);
  size_t got = 0;
  while (got < size) {
    const ssize_t n = ::pread(fd_, data.data() + got, size - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return ioError("cannot read");
    got += static_cast<size_t>(n);
  }
  // A record without its footer was cut short by the kill: its insert had not started.
  uint64_t recorded = 0;
  if (size < sizeof kMagic + kFooterBytes ||
      std::memcmp(data.data() + size - sizeof kEnd, kEnd, sizeof kEnd) != 0 ||
      (std::memcpy(&recorded, data.data() + size - kFooterBytes, 8), recorded != size)) {
    return std::optional<Group>();
  }
  if (std::memcmp(data.data(), kMagic, sizeof kMagic) != 0)
    return malformed("it does not start with its magic");

  Cursor in(data.data() + sizeof kMagic, size - sizeof kMagic - kFooterBytes);
  Group group;
  uint32_t signal = 0, tokenLength = 0, keyCount = 0, batchCount = 0;
  const uint8_t* token = nullptr;
  if (!in.get(signal) || !in.get(tokenLength) || !in.bytes(tokenLength, token) ||
      !in.get(keyCount)) {
    return malformed("its header is cut short");
  }
  group.token.assign(reinterpret_cast<const char*>(token), tokenLength);
  for (uint32_t i = 0; i < keyCount; ++i) {
    RequestKey k;
    if (!in.get(k.hi) || !in.get(k.lo)) return malformed("its keys are cut short");
    group.keys.push_back(k);
  }
  if (!in.get(batchCount)) return malformed("its batch count is missing");
  Status status;
  switch (signal) {
    case kLogs: status = readBatches(in, batchCount, group.batches.emplace<0>()); break;
    case kTraces: status = readBatches(in, batchCount, group.batches.emplace<1>()); break;
    case kMetrics: status = readBatches(in, batchCount, group.batches.emplace<2>()); break;
    default: return malformed("unknown signal " + std::to_string(signal));
  }
  if (!status.isOk()) return status;
  if (!in.atEnd()) return malformed("bytes left after its last batch");
  return std::optional<Group>(std::move(group));
}

}  // namespace stackhouse::pipeline
