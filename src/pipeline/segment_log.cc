#include "pipeline/segment_log.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <random>

#include "common/clock.h"
#include "pipeline/crc32c.h"
#include "pipeline/record_codec.h"

namespace stackhouse::pipeline {

namespace {

constexpr uint32_t kRecordMagic = 0x31514853;  // "SHQ1"
constexpr uint32_t kCursorMagic = 0x43514853;  // "SHQC"
constexpr size_t kHeaderBytes = 16;
constexpr size_t kCursorSlotBytes = 64;
// A record larger than this is taken for damage (a request is bounded far below it).
constexpr uint32_t kMaxPayloadBytes = 1u << 30;

Status ioError(const std::string& what, int err = errno) {
  return unavailable("queue: " + what + ": " + std::strerror(err));
}

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

bool preadAll(int fd, void* out, size_t n, uint64_t offset) {
  auto* p = static_cast<uint8_t*>(out);
  while (n > 0) {
    const ssize_t r = ::pread(fd, p, n, static_cast<off_t>(offset));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
    offset += static_cast<uint64_t>(r);
  }
  return true;
}

uint32_t headerCrc(uint32_t length, uint32_t rows) {
  uint32_t fields[2] = {length, rows};
  return crc32c(0, fields, sizeof fields);
}

// The segment numbers in `dir`, ascending.
Result<std::vector<uint64_t>> listSegments(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return ioError("cannot list " + dir);
  std::vector<uint64_t> seqs;
  while (const dirent* e = ::readdir(d)) {
    const std::string_view name = e->d_name;
    if (name.size() != 20 || name.substr(16) != ".seg") continue;
    uint64_t seq = 0;
    bool ok = true;
    for (char c : name.substr(0, 16)) {
      const int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
      if (v < 0) ok = false;
      seq = seq * 16 + static_cast<uint64_t>(v < 0 ? 0 : v);
    }
    if (ok) seqs.push_back(seq);
  }
  ::closedir(d);
  std::sort(seqs.begin(), seqs.end());
  return seqs;
}

std::string segmentName(uint64_t seq) {
  char name[24];
  std::snprintf(name, sizeof name, "%016llx.seg", static_cast<unsigned long long>(seq));
  return name;
}

struct CursorSlot {
  uint64_t version = 0;
  QueuePosition committed;
  QueuePosition inFlight;
};

void encodeSlot(const CursorSlot& s, uint8_t* out) {
  std::memset(out, 0, kCursorSlotBytes);
  const uint64_t fields[5] = {s.version, s.committed.segment, s.committed.offset,
                              s.inFlight.segment, s.inFlight.offset};
  std::memcpy(out, &kCursorMagic, 4);
  std::memcpy(out + 8, fields, sizeof fields);
  const uint32_t crc = crc32c(0, out + 8, kCursorSlotBytes - 8);
  std::memcpy(out + 4, &crc, 4);
}

bool decodeSlot(const uint8_t* in, CursorSlot& s) {
  uint32_t magic, crc;
  std::memcpy(&magic, in, 4);
  std::memcpy(&crc, in + 4, 4);
  if (magic != kCursorMagic || crc != crc32c(0, in + 8, kCursorSlotBytes - 8)) return false;
  uint64_t fields[5];
  std::memcpy(fields, in + 8, sizeof fields);
  s.version = fields[0];
  s.committed = {fields[1], fields[2]};
  s.inFlight = {fields[3], fields[4]};
  return s.inFlight >= s.committed;
}

// The newest valid slot of the cursor file at `fd`; a zero cursor when there is none.
CursorSlot readCursor(int fd) {
  uint8_t buf[2 * kCursorSlotBytes] = {};
  const ssize_t n = ::pread(fd, buf, sizeof buf, 0);
  CursorSlot best;
  for (int i = 0; i < 2; ++i) {
    CursorSlot s;
    if (n >= static_cast<ssize_t>((i + 1) * kCursorSlotBytes) &&
        decodeSlot(buf + i * kCursorSlotBytes, s) && s.version >= best.version) {
      best = s;
    }
  }
  return best;
}

// Reads the records of one segment file from `offset`, checking each. Calls
// onRecord(start, end, rows, payload) for each good one; returns the offset where the good
// records end (the file's size when all are good).
template <typename F>
uint64_t scanSegment(int fd, uint64_t offset, uint64_t fileSize, F&& onRecord) {
  std::vector<uint8_t> payload;
  while (offset + kHeaderBytes <= fileSize) {
    uint8_t header[kHeaderBytes];
    if (!preadAll(fd, header, kHeaderBytes, offset)) break;
    uint32_t magic, length, rows, crc;
    std::memcpy(&magic, header, 4);
    std::memcpy(&length, header + 4, 4);
    std::memcpy(&rows, header + 8, 4);
    std::memcpy(&crc, header + 12, 4);
    if (magic != kRecordMagic || length > kMaxPayloadBytes ||
        offset + kHeaderBytes + length > fileSize) {
      break;
    }
    payload.resize(length);
    if (!preadAll(fd, payload.data(), length, offset + kHeaderBytes)) break;
    if (crc32c(headerCrc(length, rows), payload.data(), length) != crc) break;
    const uint64_t end = offset + kHeaderBytes + length;
    onRecord(offset, end, rows, payload);
    offset = end;
  }
  return offset;
}

std::string randomId() {
  std::random_device rd;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 16; ++i) out += kHex[rd() & 0xf];
  return out;
}

Status syncDirectory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ioError("cannot open " + dir);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  return rc == 0 ? Status::ok() : ioError("cannot sync " + dir, err);
}

}  // namespace

Result<std::unique_ptr<SegmentLog>> SegmentLog::open(const SegmentLogOptions& options,
                                                     Recovery* recovery) {
  if (::mkdir(options.dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return ioError("cannot create " + options.dir);
  }
  std::unique_ptr<SegmentLog> log(new SegmentLog(options));
  Recovery ignored;
  STACKHOUSE_RETURN_IF_ERROR(log->recover(recovery != nullptr ? recovery : &ignored));
  return log;
}

SegmentLog::~SegmentLog() {
  if (activeFd_ >= 0) ::close(activeFd_);
  for (int fd : unsyncedFds_) ::close(fd);
  if (cursorFd_ >= 0) ::close(cursorFd_);
  if (readFd_ >= 0) ::close(readFd_);
}

std::string SegmentLog::segmentPath(uint64_t seq) const {
  return options_.dir + "/" + segmentName(seq);
}

Status SegmentLog::recover(Recovery* recovery) {
  // The id: made once, durably, before any range id uses it.
  const std::string idPath = options_.dir + "/id";
  if (const int fd = ::open(idPath.c_str(), O_RDONLY | O_CLOEXEC); fd >= 0) {
    char buf[16];
    const bool ok = preadAll(fd, buf, sizeof buf, 0);
    ::close(fd);
    if (ok) id_.assign(buf, sizeof buf);
  }
  if (id_.size() != 16) {
    id_ = randomId();
    const std::string tmp = idPath + ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return ioError("cannot create " + tmp);
    const bool ok = ::write(fd, id_.data(), id_.size()) == 16 && ::fsync(fd) == 0;
    ::close(fd);
    if (!ok || ::rename(tmp.c_str(), idPath.c_str()) != 0) return ioError("cannot write " + idPath);
    STACKHOUSE_RETURN_IF_ERROR(syncDirectory(options_.dir));
  }

  const std::string cursorPath = options_.dir + "/cursor";
  cursorFd_ = ::open(cursorPath.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (cursorFd_ < 0) return ioError("cannot open " + cursorPath);
  const CursorSlot cursor = readCursor(cursorFd_);
  cursorVersion_ = cursor.version;
  committed_ = cursor.committed;
  inFlight_ = cursor.inFlight;

  auto seqs = listSegments(options_.dir);
  if (!seqs) return seqs.status();
  uint64_t lastSeq = committed_.segment;
  QueuePosition end = committed_;
  for (uint64_t seq : *seqs) {
    lastSeq = std::max(lastSeq, seq);
    const std::string path = segmentPath(seq);
    if (seq < committed_.segment) {
      // Stored in full; its deletion did not happen before the process stopped.
      ::unlink(path.c_str());
      continue;
    }
    const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) return ioError("cannot open " + path);
    struct stat st = {};
    if (::fstat(fd, &st) != 0) {
      ::close(fd);
      return ioError("cannot stat " + path);
    }
    const auto fileSize = static_cast<uint64_t>(st.st_size);
    const uint64_t from = seq == committed_.segment ? std::min(committed_.offset, fileSize) : 0;
    Segment segment;
    segment.sealed = true;
    segment.createdNanos = monoNanos();
    const uint64_t good =
        scanSegment(fd, from, fileSize,
                    [&](uint64_t, uint64_t, uint32_t rows, const std::vector<uint8_t>& payload) {
                      ++segment.records;
                      segment.rows += rows;
                      recovery->keys.push_back(recordKey(payload));
                    });
    if (good < fileSize) {
      // A torn or damaged tail: no record in it was ever acknowledged (see the header).
      if (::ftruncate(fd, static_cast<off_t>(good)) != 0 || ::fdatasync(fd) != 0) {
        const int err = errno;
        ::close(fd);
        return ioError("cannot cut the damaged tail of " + path, err);
      }
      recovery->tornBytes += fileSize - good;
      ++recovery->tornSegments;
    }
    ::close(fd);
    segment.bytes = good;
    recovery->records += segment.records;
    recovery->rows += segment.rows;
    bytesOnDisk_ += good;
    segments_[seq] = segment;
    end = {seq, good};
  }
  // Everything recovered is synced (the cut above was) and readable.
  published_ = end;
  if (committed_ > end) committed_ = end;
  if (inFlight_ > end) inFlight_ = end;
  if (inFlight_ < committed_) inFlight_ = committed_;
  readPosition_ = committed_;
  std::lock_guard lock(mu_);
  return openActive(lastSeq + 1);
}

Status SegmentLog::openActive(uint64_t seq) {
  const std::string path = segmentPath(seq);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return ioError("cannot create " + path);
  activeFd_ = fd;
  activeSeq_ = seq;
  Segment segment;
  segment.createdNanos = monoNanos();
  segments_[seq] = segment;
  return Status::ok();
}

Result<QueuePosition> SegmentLog::append(std::span<const iovec> payload, size_t payloadBytes,
                                         uint32_t rows) {
  if (payloadBytes > kMaxPayloadBytes) {
    return invalidArgument("queue: a record of " + std::to_string(payloadBytes) +
                           " bytes is past the limit of a record");
  }
  const auto length = static_cast<uint32_t>(payloadBytes);
  uint32_t crc = headerCrc(length, rows);
  for (const iovec& v : payload) crc = crc32c(crc, v.iov_base, v.iov_len);
  uint32_t header[4] = {kRecordMagic, length, rows, crc};
  std::vector<iovec> iov;
  iov.reserve(payload.size() + 1);
  iov.push_back({header, sizeof header});
  iov.insert(iov.end(), payload.begin(), payload.end());
  const uint64_t recordBytes = kHeaderBytes + payloadBytes;

  std::lock_guard lock(mu_);
  Segment* active = &segments_[activeSeq_];
  if (active->bytes > 0 && active->bytes + recordBytes > options_.segmentBytes) {
    // Seal the segment; the next sync() still syncs it.
    active->sealed = true;
    unsyncedFds_.push_back(activeFd_);
    activeFd_ = -1;
    STACKHOUSE_RETURN_IF_ERROR(openActive(activeSeq_ + 1));
    active = &segments_[activeSeq_];
  }
  if (!pwriteAll(activeFd_, iov, static_cast<off_t>(active->bytes))) {
    const int err = errno;
    // Leave no partial record behind (a later append would follow it).
    if (::ftruncate(activeFd_, static_cast<off_t>(active->bytes)) != 0) {
      return ioError("cannot append, nor cut the partial record", err);
    }
    return ioError("cannot append", err);
  }
  active->bytes += recordBytes;
  active->records += 1;
  active->rows += rows;
  bytesOnDisk_ += recordBytes;
  dirty_ = true;
  return QueuePosition{activeSeq_, active->bytes};
}

Status SegmentLog::sync(bool durable) {
  std::vector<int> sealed;
  int active = -1;
  {
    std::lock_guard lock(mu_);
    if (!dirty_) return Status::ok();
    dirty_ = false;
    sealed.swap(unsyncedFds_);
    // The active descriptor is closed only by the destructor: safe to use outside the lock.
    active = activeFd_;
  }
  Status status;
  for (int fd : sealed) {
    if (durable && ::fdatasync(fd) != 0 && status.isOk()) status = ioError("cannot sync a segment");
    ::close(fd);
  }
  if (durable && ::fdatasync(active) != 0 && status.isOk()) {
    status = ioError("cannot sync a segment");
  }
  if (!status.isOk()) {
    std::lock_guard lock(mu_);
    dirty_ = true;
  }
  return status;
}

void SegmentLog::publish(QueuePosition end) {
  std::lock_guard lock(mu_);
  if (end > published_) published_ = end;
}

Status SegmentLog::read(QueuePosition from, size_t maxRows, size_t maxBytes, QueuePosition stopAt,
                        std::vector<QueueRecord>& out) {
  QueuePosition limit;
  size_t rows = 0, bytes = 0;
  QueuePosition at = from;
  while (true) {
    uint64_t segmentEnd = 0;
    {
      std::lock_guard lock(mu_);
      limit = published_;
      if (stopAt != QueuePosition{} && stopAt < limit) limit = stopAt;
      if (at >= limit) break;
      auto it = segments_.lower_bound(at.segment);
      if (it == segments_.end()) break;
      if (it->first != at.segment) at = {it->first, 0};  // a segment dropped or deleted
      const Segment& s = it->second;
      segmentEnd = at.segment == limit.segment ? limit.offset : s.bytes;
      if (at.offset >= segmentEnd) {
        if (!s.sealed || at.segment >= limit.segment) break;
        auto next = std::next(it);
        if (next == segments_.end()) break;
        at = {next->first, 0};
        continue;
      }
      // The segment is read outside the lock: from now on dropOldest must leave it alone, or
      // its records would be both sent and counted as dropped.
      if (at > readPosition_) readPosition_ = at;
    }
    if (readFd_ < 0 || readSeq_ != at.segment) {
      if (readFd_ >= 0) ::close(readFd_);
      readFd_ = ::open(segmentPath(at.segment).c_str(), O_RDONLY | O_CLOEXEC);
      readSeq_ = at.segment;
      if (readFd_ < 0) return ioError("cannot open a segment to read");
    }
    uint8_t header[kHeaderBytes];
    if (!preadAll(readFd_, header, kHeaderBytes, at.offset)) return ioError("cannot read");
    uint32_t magic, length, recordRows, crc;
    std::memcpy(&magic, header, 4);
    std::memcpy(&length, header + 4, 4);
    std::memcpy(&recordRows, header + 8, 4);
    std::memcpy(&crc, header + 12, 4);
    if (magic != kRecordMagic || at.offset + kHeaderBytes + length > segmentEnd) {
      return Status(StatusCode::kInternal, "queue: a synced record is damaged (bad header)");
    }
    QueueRecord record;
    record.start = at;
    record.rows = recordRows;
    record.payload.resize(length);
    if (!preadAll(readFd_, record.payload.data(), length, at.offset + kHeaderBytes)) {
      return ioError("cannot read");
    }
    if (crc32c(headerCrc(length, recordRows), record.payload.data(), length) != crc) {
      return Status(StatusCode::kInternal, "queue: a synced record is damaged (bad checksum)");
    }
    at.offset += kHeaderBytes + length;
    record.end = at;
    rows += recordRows;
    bytes += length;
    out.push_back(std::move(record));
    if (stopAt == QueuePosition{} && (rows >= maxRows || bytes >= maxBytes)) break;
  }
  if (!out.empty()) setReadPosition(out.back().end);
  return Status::ok();
}

void SegmentLog::setReadPosition(QueuePosition p) {
  std::lock_guard lock(mu_);
  if (p > readPosition_) readPosition_ = p;
}

Status SegmentLog::writeCursor(QueuePosition committed, QueuePosition inFlight) {
  CursorSlot slot;
  slot.version = ++cursorVersion_;
  slot.committed = committed;
  slot.inFlight = inFlight;
  uint8_t buf[kCursorSlotBytes];
  encodeSlot(slot, buf);
  const off_t at = static_cast<off_t>((slot.version % 2) * kCursorSlotBytes);
  if (::pwrite(cursorFd_, buf, sizeof buf, at) != static_cast<ssize_t>(sizeof buf)) {
    return ioError("cannot write the cursor");
  }
  if (options_.syncCursor && ::fdatasync(cursorFd_) != 0) return ioError("cannot sync the cursor");
  return Status::ok();
}

Status SegmentLog::beginRange(QueuePosition end) {
  QueuePosition committed;
  {
    std::lock_guard lock(mu_);
    committed = committed_;
    inFlight_ = end;
  }
  return writeCursor(committed, end);
}

Result<uint64_t> SegmentLog::commit(QueuePosition end) {
  STACKHOUSE_RETURN_IF_ERROR(writeCursor(end, end));
  std::vector<uint64_t> doomed;
  uint64_t freed = 0;
  {
    std::lock_guard lock(mu_);
    committed_ = end;
    inFlight_ = end;
    if (end > readPosition_) readPosition_ = end;
    for (auto it = segments_.begin(); it != segments_.end() && it->first < end.segment;) {
      if (!it->second.sealed) break;
      doomed.push_back(it->first);
      freed += it->second.bytes;
      bytesOnDisk_ -= it->second.bytes;
      it = segments_.erase(it);
    }
  }
  for (uint64_t seq : doomed) ::unlink(segmentPath(seq).c_str());
  return freed;
}

bool SegmentLog::droppable(uint64_t seq, const Segment& s) const {
  // Nothing of it read (the reader may hold records before readPosition_ in memory) or
  // committed.
  return s.sealed && seq > readPosition_.segment && seq > committed_.segment;
}

int64_t SegmentLog::oldestDroppableNanos() const {
  std::lock_guard lock(mu_);
  for (const auto& [seq, s] : segments_) {
    if (droppable(seq, s)) return s.createdNanos;
  }
  const Segment& active = segments_.at(activeSeq_);
  if (active.records > 0 && activeSeq_ > readPosition_.segment) return active.createdNanos;
  return INT64_MAX;
}

SegmentLog::Dropped SegmentLog::dropOldest() {
  Dropped dropped;
  uint64_t victim = 0;
  {
    std::lock_guard lock(mu_);
    auto it = segments_.begin();
    while (it != segments_.end() && !droppable(it->first, it->second)) ++it;
    if (it == segments_.end()) {
      // Only the segment being appended to holds unread records: seal it to drop it.
      Segment& active = segments_.at(activeSeq_);
      if (active.records == 0 || activeSeq_ <= readPosition_.segment) return dropped;
      active.sealed = true;
      unsyncedFds_.push_back(activeFd_);
      activeFd_ = -1;
      const uint64_t sealed = activeSeq_;
      if (!openActive(activeSeq_ + 1).isOk()) {
        // Keep appending to the old one rather than lose the log.
        activeFd_ = unsyncedFds_.back();
        unsyncedFds_.pop_back();
        active.sealed = false;
        return dropped;
      }
      it = segments_.find(sealed);
    }
    victim = it->first;
    dropped = {it->second.records, it->second.rows, it->second.bytes};
    bytesOnDisk_ -= it->second.bytes;
    segments_.erase(it);
    // A published position inside it stays valid: read() skips to the next segment.
  }
  ::unlink(segmentPath(victim).c_str());
  return dropped;
}

QueuePosition SegmentLog::committed() const {
  std::lock_guard lock(mu_);
  return committed_;
}
QueuePosition SegmentLog::inFlightEnd() const {
  std::lock_guard lock(mu_);
  return inFlight_;
}
QueuePosition SegmentLog::published() const {
  std::lock_guard lock(mu_);
  return published_;
}
uint64_t SegmentLog::bytesOnDisk() const {
  std::lock_guard lock(mu_);
  return bytesOnDisk_;
}

Result<SegmentLog::Summary> SegmentLog::peek(const std::string& dir) {
  Summary summary;
  struct stat st = {};
  if (::stat(dir.c_str(), &st) != 0) {
    if (errno == ENOENT) return summary;
    return ioError("cannot stat " + dir);
  }
  CursorSlot cursor;
  if (const int fd = ::open((dir + "/cursor").c_str(), O_RDONLY | O_CLOEXEC); fd >= 0) {
    cursor = readCursor(fd);
    ::close(fd);
  }
  auto seqs = listSegments(dir);
  if (!seqs) return seqs.status();
  for (uint64_t seq : *seqs) {
    if (seq < cursor.committed.segment) continue;
    const std::string path = dir + "/" + segmentName(seq);
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;  // deleted meanwhile by a running stackhouse
    struct stat fs = {};
    if (::fstat(fd, &fs) == 0) {
      const uint64_t from = seq == cursor.committed.segment ? cursor.committed.offset : 0;
      scanSegment(fd, from, static_cast<uint64_t>(fs.st_size),
                  [&](uint64_t, uint64_t, uint32_t rows, const std::vector<uint8_t>&) {
                    ++summary.records;
                    summary.rows += rows;
                  });
    }
    ::close(fd);
  }
  return summary;
}

}  // namespace stackhouse::pipeline
