#include "pipeline/request_ledger.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>
#include <vector>

#include "common/log.h"

namespace stackhouse::pipeline {

namespace {

// File layout: a 32-byte header ("SHLEDGR1", 16-byte seed, 8 reserved), then records:
//   u32 magic 0x4c52454b, u32 count, i64 unix seconds, count x (u64 hi, u64 lo), u64 check
// where check is a hash of the record's preceding bytes.
constexpr char kFileMagic[8] = {'S', 'H', 'L', 'E', 'D', 'G', 'R', '1'};
constexpr uint32_t kRecordMagic = 0x4c52454b;
constexpr size_t kHeaderBytes = 32;

inline uint64_t load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

inline uint64_t mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

uint64_t checksum(const uint8_t* p, size_t n) {
  uint64_t h = 0x6a09e667f3bcc908ULL ^ n;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) h = mix(h ^ load64(p + i));
  uint64_t tail = 0;
  std::memcpy(&tail, p + i, n - i);
  return mix(h ^ tail);
}

bool writeAll(int fd, const void* data, size_t n) {
  const auto* p = static_cast<const uint8_t*>(data);
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

int64_t nowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::vector<uint8_t> encodeRecord(std::span<const RequestKey> keys, int64_t seconds) {
  std::vector<uint8_t> rec(16 + keys.size() * 16 + 8);
  const uint32_t magic = kRecordMagic;
  const auto count = static_cast<uint32_t>(keys.size());
  std::memcpy(rec.data(), &magic, 4);
  std::memcpy(rec.data() + 4, &count, 4);
  std::memcpy(rec.data() + 8, &seconds, 8);
  for (size_t i = 0; i < keys.size(); ++i) {
    std::memcpy(rec.data() + 16 + i * 16, &keys[i].hi, 8);
    std::memcpy(rec.data() + 24 + i * 16, &keys[i].lo, 8);
  }
  const uint64_t check = checksum(rec.data(), rec.size() - 8);
  std::memcpy(rec.data() + rec.size() - 8, &check, 8);
  return rec;
}

}  // namespace

RequestKey RequestLedger::keyOf(uint8_t signal, std::span<const uint8_t> body) const {
  // Two multiply-mix lanes over 16-byte chunks, keyed by the ledger's seed; not a cryptographic
  // hash, but keyed so that colliding bodies cannot be prepared without reading the data dir.
  uint64_t a = seed_[0] ^ (0x9e3779b97f4a7c15ULL * (signal + 1));
  uint64_t b = seed_[1] ^ (body.size() * 0xc2b2ae3d27d4eb4fULL);
  const uint8_t* p = body.data();
  size_t n = body.size();
  while (n >= 16) {
    a = (a ^ load64(p)) * 0x9fb21c651e98df25ULL;
    b = (b ^ load64(p + 8)) * 0xd6e8feb86659fd93ULL;
    a ^= a >> 29;
    b ^= b >> 32;
    p += 16;
    n -= 16;
  }
  uint8_t tail[16] = {};
  std::memcpy(tail, p, n);
  a = (a ^ load64(tail)) * 0x9fb21c651e98df25ULL;
  b = (b ^ load64(tail + 8)) * 0xd6e8feb86659fd93ULL;
  RequestKey k;
  k.hi = mix(a + mix(b));
  k.lo = mix(b ^ k.hi);
  if (k.empty()) k.lo = 1;  // the empty key means "no key"
  return k;
}

Result<std::unique_ptr<RequestLedger>> RequestLedger::open(const Options& options) {
  std::unique_ptr<RequestLedger> ledger(new RequestLedger(options));
  STACKHOUSE_RETURN_IF_ERROR(ledger->load());
  return ledger;
}

RequestLedger::~RequestLedger() {
  if (fd_ >= 0) ::close(fd_);
}

Status RequestLedger::load() {
  std::lock_guard lock(mu_);
  std::vector<uint8_t> data;
  {
    const int fd = ::open(options_.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      uint8_t buf[1 << 16];
      ssize_t n;
      while ((n = ::read(fd, buf, sizeof buf)) > 0) data.insert(data.end(), buf, buf + n);
      ::close(fd);
    }
  }
  const int64_t now = nowSeconds();
  bool fresh = true;
  if (data.size() >= kHeaderBytes && std::memcmp(data.data(), kFileMagic, 8) == 0) {
    fresh = false;
    std::memcpy(seed_, data.data() + 8, 16);
    size_t off = kHeaderBytes;
    while (off + 24 <= data.size()) {
      uint32_t magic, count;
      int64_t seconds;
      std::memcpy(&magic, data.data() + off, 4);
      std::memcpy(&count, data.data() + off + 4, 4);
      std::memcpy(&seconds, data.data() + off + 8, 8);
      const size_t len = 16 + static_cast<size_t>(count) * 16 + 8;
      if (magic != kRecordMagic || off + len > data.size()) break;  // a record cut short
      uint64_t check;
      std::memcpy(&check, data.data() + off + len - 8, 8);
      if (check != checksum(data.data() + off, len - 8)) break;
      if (now - seconds <= options_.window.count()) {
        for (uint32_t i = 0; i < count; ++i) {
          RequestKey k{load64(data.data() + off + 16 + i * 16),
                       load64(data.data() + off + 24 + i * 16)};
          if (keys_.insert(k).second) order_.push_back({k, seconds});
        }
      }
      off += len;
    }
  }
  if (fresh) {
    std::random_device rd;
    seed_[0] = (static_cast<uint64_t>(rd()) << 32) ^ rd();
    seed_[1] = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  }
  expire(now);
  // Start from a compact file holding only what is still remembered.
  STACKHOUSE_RETURN_IF_ERROR(rewrite());
  log::info("request ledger loaded",
            log::Fields().add("keys", static_cast<uint64_t>(keys_.size())));
  return Status::ok();
}

void RequestLedger::expire(int64_t now) {
  while (!order_.empty() && (order_.size() > options_.maxKeys ||
                             now - order_.front().seconds > options_.window.count())) {
    keys_.erase(order_.front().key);
    order_.pop_front();
  }
}

Status RequestLedger::rewrite() {
  const std::string tmp = options_.path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    return unavailable("cannot write the request ledger: " + std::string(std::strerror(errno)));
  uint8_t header[kHeaderBytes] = {};
  std::memcpy(header, kFileMagic, 8);
  std::memcpy(header + 8, seed_, 16);
  bool ok = writeAll(fd, header, sizeof header);
  uint64_t bytes = sizeof header;
  // Group keys by second so each record keeps its time.
  size_t i = 0;
  std::vector<RequestKey> group;
  while (ok && i < order_.size()) {
    const int64_t seconds = order_[i].seconds;
    group.clear();
    while (i < order_.size() && order_[i].seconds == seconds && group.size() < 65536)
      group.push_back(order_[i++].key);
    const auto rec = encodeRecord(group, seconds);
    ok = writeAll(fd, rec.data(), rec.size());
    bytes += rec.size();
  }
  if (!ok || ::fsync(fd) != 0) {
    ::close(fd);
    return unavailable("cannot write the request ledger: " + std::string(std::strerror(errno)));
  }
  ::close(fd);
  if (::rename(tmp.c_str(), options_.path.c_str()) != 0) {
    return unavailable("cannot replace the request ledger: " + std::string(std::strerror(errno)));
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = ::open(options_.path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd_ < 0)
    return unavailable("cannot open the request ledger: " + std::string(std::strerror(errno)));
  fileBytes_ = bytes;
  return Status::ok();
}

bool RequestLedger::isCommitted(const RequestKey& key) const {
  if (key.empty()) return false;
  std::lock_guard lock(mu_);
  return keys_.count(key) > 0;
}

Status RequestLedger::recordCommitted(std::span<const RequestKey> keys) {
  std::vector<RequestKey> live;
  live.reserve(keys.size());
  for (const RequestKey& k : keys) {
    if (!k.empty()) live.push_back(k);
  }
  if (live.empty()) return Status::ok();
  const int64_t now = nowSeconds();
  const auto rec = encodeRecord(live, now);
  std::lock_guard lock(mu_);
  // One write: a kill cuts at most this record, which the loader then ignores.
  if (!writeAll(fd_, rec.data(), rec.size())) {
    return unavailable("cannot append to the request ledger: " + std::string(std::strerror(errno)));
  }
  fileBytes_ += rec.size();
  for (const RequestKey& k : live) {
    if (keys_.insert(k).second) order_.push_back({k, now});
  }
  expire(now);
  if (fileBytes_ > options_.maxFileBytes) return rewrite();
  return Status::ok();
}

size_t RequestLedger::size() const {
  std::lock_guard lock(mu_);
  return keys_.size();
}

}  // namespace stackhouse::pipeline
