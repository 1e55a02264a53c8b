#include "receivers/prometheus/scrape_manager.h"

#include <curl/curl.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <mutex>

#include "common/clock.h"
#include "common/json_writer.h"
#include "common/log.h"
#include "common/thread_name.h"

namespace stackhouse::receivers::prometheus {
namespace {

std::once_flag curlInit;

std::string rfc3339(int64_t nanos) {
  if (nanos == 0) return "0001-01-01T00:00:00Z";
  const time_t seconds = static_cast<time_t>(nanos / 1'000'000'000);
  struct tm tm {};
  gmtime_r(&seconds, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(nanos % 1'000'000'000));
  return buf;
}

std::string durationText(std::chrono::nanoseconds d) {
  const int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

}  // namespace

struct ScrapeManager::Slot {
  explicit Slot(ScrapeTarget t) : target(std::move(t)), mapper(target.identity) {}
  ~Slot() {
    if (easy != nullptr) curl_easy_cleanup(easy);
    if (headers != nullptr) curl_slist_free_all(headers);
    if (connectTo != nullptr) curl_slist_free_all(connectTo);
  }

  ScrapeTarget target;
  ScrapeMapper mapper;
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  curl_slist* connectTo = nullptr;
  std::string body;         // the scrape in flight
  size_t lastBodySize = 0;  // the last scrape's, to reserve the next one's buffer
  bool tooLarge = false;
  char errorBuffer[CURL_ERROR_SIZE] = {};
  int64_t nextDue = 0;  // monotonic ns
  bool inFlight = false;
  int64_t startedMono = 0;
  int64_t startedWall = 0;

  struct State {
    std::string health = "unknown";
    std::string lastError;
    int64_t lastScrape = 0;  // wall ns
    double lastDuration = 0;
    uint64_t lastSamples = 0;
  } state;  // guarded by ScrapeManager::stateMu_

  Gauge* up = nullptr;
  Gauge* lastScrapeSeconds = nullptr;
  Gauge* lastDurationMs = nullptr;
  Gauge* lastSamples = nullptr;
  Counter* ok = nullptr;
  Counter* failed = nullptr;
};

ScrapeManager::ScrapeManager(std::vector<ScrapeTarget> targets, const ScrapeManagerOptions& options,
                             ScrapeOutput& output)
    : options_(options),
      output_(output),
      skipped_(metrics().counter("stackhouse_scrape_skipped_total",
                                 "Scrape slots skipped because the target's previous scrape was "
                                 "still running or maxConcurrentScrapes were in flight.")),
      dropped_(metrics().counter("stackhouse_scrape_dropped_batches_total",
                                 "Scraped batches the pipeline refused (full or stopped).")) {
  if (options_.maxConcurrent == 0) options_.maxConcurrent = 1;
  for (ScrapeTarget& t : targets) {
    auto slot = std::make_unique<Slot>(std::move(t));
    const Labels labels = {{"job", slot->target.identity.job},
                           {"instance", slot->target.identity.instance}};
    slot->up = &metrics().gauge("stackhouse_scrape_target_up",
                                "1 when the target's last scrape succeeded, else 0.", labels);
    slot->lastScrapeSeconds =
        &metrics().gauge("stackhouse_scrape_target_last_scrape_timestamp_seconds",
                         "When the target's last scrape started (Unix seconds).", labels);
    slot->lastDurationMs = &metrics().gauge("stackhouse_scrape_target_last_duration_milliseconds",
                                            "How long the target's last scrape took.", labels);
    slot->lastSamples = &metrics().gauge("stackhouse_scrape_target_last_samples",
                                         "Samples in the target's last scrape.", labels);
    Labels okLabels = labels;
    okLabels.emplace_back("outcome", "ok");
    Labels failedLabels = labels;
    failedLabels.emplace_back("outcome", "failed");
    slot->ok = &metrics().counter("stackhouse_scrape_target_scrapes_total",
                                  "Scrapes of the target by outcome.", okLabels);
    slot->failed = &metrics().counter("stackhouse_scrape_target_scrapes_total",
                                      "Scrapes of the target by outcome.", failedLabels);
    slots_.push_back(std::move(slot));
  }
}

ScrapeManager::~ScrapeManager() { stop(); }

Status ScrapeManager::start() {
  std::call_once(curlInit, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  CURLM* multi = curl_multi_init();
  if (multi == nullptr) return internalError("prometheus scrape: curl_multi_init failed");
  multi_ = multi;
  curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, static_cast<long>(slots_.size() + 8));
  for (auto& s : slots_) {
    Slot& slot = *s;
    slot.easy = curl_easy_init();
    if (slot.easy == nullptr) return internalError("prometheus scrape: curl_easy_init failed");
    CURL* e = slot.easy;
    const ScrapeTarget& t = slot.target;
    curl_easy_setopt(e, CURLOPT_URL, t.url.c_str());
    curl_easy_setopt(e, CURLOPT_PRIVATE, &slot);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, slot.errorBuffer);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, 10L);
    // gzip and deflate, inflated by curl before the write callback: the body limit applies to
    // the inflated bytes, so a small compressed body cannot blow up memory.
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "gzip, deflate");
    const auto timeoutMs = std::chrono::duration_cast<std::chrono::milliseconds>(t.timeout).count();
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(std::max<int64_t>(timeoutMs, 1)));
    curl_easy_setopt(e, CURLOPT_USERAGENT, "stackhouse");
    slot.headers =
        curl_slist_append(slot.headers, ("Accept: " + std::string(kAcceptHeader)).c_str());
    char timeoutHeader[96];
    std::snprintf(timeoutHeader, sizeof timeoutHeader, "X-Prometheus-Scrape-Timeout-Seconds: %g",
                  static_cast<double>(timeoutMs) / 1000.0);
    slot.headers = curl_slist_append(slot.headers, timeoutHeader);
    if (!t.bearerToken.empty()) {
      slot.headers =
          curl_slist_append(slot.headers, ("Authorization: Bearer " + t.bearerToken).c_str());
    }
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, slot.headers);
    if (!t.basicUsername.empty()) {
      curl_easy_setopt(e, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
      curl_easy_setopt(e, CURLOPT_USERNAME, t.basicUsername.c_str());
      curl_easy_setopt(e, CURLOPT_PASSWORD, t.basicPassword.c_str());
    }
    if (t.identity.scheme == "https") {
      if (!t.tls.caFile.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, t.tls.caFile.c_str());
      if (!t.tls.certFile.empty()) {
        curl_easy_setopt(e, CURLOPT_SSLCERT, t.tls.certFile.c_str());
        curl_easy_setopt(e, CURLOPT_SSLKEY, t.tls.keyFile.c_str());
      }
      if (t.tls.insecureSkipVerify) {
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
      }
    }
    if (!t.connectTo.empty()) {
      // tls.serverName: the URL names that host (SNI, certificate check), the connection goes
      // to the target.
      slot.connectTo = curl_slist_append(nullptr, t.connectTo.c_str());
      curl_easy_setopt(e, CURLOPT_CONNECT_TO, slot.connectTo);
    }
    curl_easy_setopt(
        e, CURLOPT_WRITEFUNCTION, +[](char* data, size_t size, size_t n, void* user) -> size_t {
          auto* sl = static_cast<Slot*>(user);
          const size_t bytes = size * n;
          if (sl->body.size() + bytes > sl->target.bodySizeLimit) {
            sl->tooLarge = true;
            return 0;  // aborts the transfer with CURLE_WRITE_ERROR
          }
          sl->body.append(data, bytes);
          return bytes;
        });
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &slot);
  }
  const int64_t now = monoNanos();
  for (auto& s : slots_) s->nextDue = firstDue(*s, now);
  started_ = true;
  thread_ = std::thread([this] { run(); });
  return Status::ok();
}

int64_t ScrapeManager::firstDue(const Slot& slot, int64_t nowMono) const {
  // Aligned to the wall clock as Prometheus aligns it: the next moment whose position within
  // the interval equals the target's offset.
  const int64_t interval = slot.target.interval.count();
  const int64_t offset = scrapeOffset(slot.target).count();
  const int64_t wall = wallNanos();
  int64_t wait = (offset - wall % interval) % interval;
  if (wait < 0) wait += interval;
  return nowMono + wait;
}

void ScrapeManager::stop() {
  if (stopping_.exchange(true)) return;
  if (started_) {
    curl_multi_wakeup(static_cast<CURLM*>(multi_));
    thread_.join();
    flush();  // what was scraped is handed over, not lost
  }
  for (auto& s : slots_) {
    if (s->inFlight) curl_multi_remove_handle(static_cast<CURLM*>(multi_), s->easy);
    s->inFlight = false;
  }
  if (multi_ != nullptr) curl_multi_cleanup(static_cast<CURLM*>(multi_));
  multi_ = nullptr;
}

void ScrapeManager::begin(Slot& slot, int64_t nowMono) {
  slot.body.reserve(std::min<uint64_t>(slot.lastBodySize + slot.lastBodySize / 8 + 4096,
                                       slot.target.bodySizeLimit));
  slot.tooLarge = false;
  slot.errorBuffer[0] = '\0';
  slot.inFlight = true;
  slot.startedMono = nowMono;
  slot.startedWall = wallNanos();
  curl_multi_add_handle(static_cast<CURLM*>(multi_), slot.easy);
}

void ScrapeManager::run() {
  setThreadName("prom-scrape");
  CURLM* multi = static_cast<CURLM*>(multi_);
  uint32_t inFlight = 0;
  size_t cursor = 0;
  while (!stopping_.load(std::memory_order_relaxed)) {
    int64_t now = monoNanos();
    int64_t nextWake = now + 1'000'000'000;
    // Start what is due, fairly: the scan starts where the last one stopped.
    for (size_t k = 0; k < slots_.size(); ++k) {
      Slot& slot = *slots_[(cursor + k) % slots_.size()];
      if (slot.nextDue > now) {
        nextWake = std::min(nextWake, slot.nextDue);
        continue;
      }
      if (slot.inFlight || inFlight >= options_.maxConcurrent) {
        // This slot is lost: the previous scrape still runs, or too many are in flight.
        if (slot.inFlight) {
          skipped_.inc();
          while (slot.nextDue <= now) slot.nextDue += slot.target.interval.count();
          nextWake = std::min(nextWake, slot.nextDue);
        }
        continue;
      }
      begin(slot, now);
      ++inFlight;
      while (slot.nextDue <= now) slot.nextDue += slot.target.interval.count();
      nextWake = std::min(nextWake, slot.nextDue);
      cursor = (cursor + k + 1) % slots_.size();
    }
    if (pending_) {
      const int64_t flushAt = pendingSince_ + options_.flushInterval.count() * 1'000'000;
      if (flushAt <= now) {
        flush();
      } else {
        nextWake = std::min(nextWake, flushAt);
      }
    }
    const int64_t waitMs = std::clamp<int64_t>((nextWake - now + 999'999) / 1'000'000, 0, 1000);
    int ready = 0;
    curl_multi_poll(multi, nullptr, 0, static_cast<int>(inFlight == 0 && waitMs == 0 ? 1 : waitMs),
                    &ready);
    int running = 0;
    curl_multi_perform(multi, &running);
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &queued)) {
      if (msg->msg != CURLMSG_DONE) continue;
      Slot* slot = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &slot);
      const CURLcode code = msg->data.result;
      curl_multi_remove_handle(multi, msg->easy_handle);
      --inFlight;
      slot->inFlight = false;
      finish(*slot, static_cast<int>(code));
    }
  }
}

void ScrapeManager::finish(Slot& slot, int curlCode) {
  const double duration = static_cast<double>(monoNanos() - slot.startedMono) / 1e9;
  const ScrapeTarget& t = slot.target;
  Status status;
  if (curlCode != CURLE_OK) {
    if (slot.tooLarge) {
      status = resourceExhausted("the body is larger than bodySizeLimit (" +
                                 std::to_string(t.bodySizeLimit) + " bytes)");
    } else if (curlCode == CURLE_OPERATION_TIMEDOUT) {
      status = unavailable("no answer within scrapeTimeout (" + durationText(t.timeout) + ")");
    } else {
      status = unavailable(slot.errorBuffer[0] != '\0'
                               ? std::string(slot.errorBuffer)
                               : std::string(curl_easy_strerror(static_cast<CURLcode>(curlCode))));
    }
  } else {
    long httpStatus = 0;
    curl_easy_getinfo(slot.easy, CURLINFO_RESPONSE_CODE, &httpStatus);
    if (httpStatus != 200) {
      status = unavailable("server returned HTTP status " + std::to_string(httpStatus));
    }
  }
  if (!pending_) {
    pending_ = output_.acquire();
    pendingSince_ = monoNanos();
  }
  telemetry::MetricBatch* batch = pending_.get();
  ScrapeCounts counts;
  if (status.isOk()) {
    char* contentType = nullptr;
    curl_easy_getinfo(slot.easy, CURLINFO_CONTENT_TYPE, &contentType);
    const Format format =
        formatOfContentType(contentType != nullptr ? std::string_view(contentType) : "");
    status = slot.mapper.map(slot.body, format, t.limits, slot.startedWall, *batch, counts);
  }
  if (!status.isOk()) {
    counts = ScrapeCounts{};
    slot.mapper.markAllStale(slot.startedWall, *batch);
  }
  slot.mapper.appendScrapeSeries(status.isOk(), duration, counts, slot.startedWall, *batch);
  if (batch->rows() >= options_.flushRows) flush();
  // The body is not kept between scrapes (200 targets' bodies would stay resident for nothing);
  // the next scrape reserves what this one needed, so it still grows in one step.
  slot.lastBodySize = slot.body.size();
  std::string().swap(slot.body);

  bool wasUp = false;
  {
    std::lock_guard lock(stateMu_);
    wasUp = slot.state.health != "down";
    slot.state.health = status.isOk() ? "up" : "down";
    slot.state.lastError = status.isOk() ? std::string() : status.message();
    slot.state.lastScrape = slot.startedWall;
    slot.state.lastDuration = duration;
    slot.state.lastSamples = counts.samplesScraped;
  }
  slot.up->set(status.isOk() ? 1 : 0);
  slot.lastScrapeSeconds->set(slot.startedWall / 1'000'000'000);
  slot.lastDurationMs->set(static_cast<int64_t>(std::llround(duration * 1000)));
  slot.lastSamples->set(static_cast<int64_t>(counts.samplesScraped));
  (status.isOk() ? slot.ok : slot.failed)->inc();
  if (!status.isOk() && wasUp) {
    // Once per change to down, not per failed scrape. The error names no payload content.
    log::warn("scrape failed", log::Fields()
                                   .add("component", "prometheus-scrape")
                                   .add("job", t.identity.job)
                                   .add("instance", t.identity.instance)
                                   .add("error", status.message()));
  }
  scrapesDone_.fetch_add(1, std::memory_order_relaxed);
}

void ScrapeManager::flush() {
  if (!pending_) return;
  if (pending_->rows() != 0 && !output_.submit(std::move(pending_)).isOk()) dropped_.inc();
  pending_ = {};
}

std::string ScrapeManager::targetsJson() const {
  std::string out;
  JsonWriter w(out);
  w.beginObject().key("status").value("success").key("data").beginObject();
  w.key("activeTargets").beginArray();
  std::lock_guard lock(stateMu_);
  for (const auto& s : slots_) {
    const ScrapeTarget& t = s->target;
    w.beginObject();
    w.key("scrapePool").value(t.identity.job);
    w.key("scrapeUrl").value(t.urlNoQuery);
    w.key("labels").beginObject();
    w.key("job").value(t.identity.job);
    w.key("instance").value(t.identity.instance);
    for (const auto& [name, value] : t.identity.labels) w.key(name).value(value);
    w.endObject();
    w.key("health").value(s->state.health);
    w.key("lastError").value(s->state.lastError);
    w.key("lastScrape").value(rfc3339(s->state.lastScrape));
    w.key("lastScrapeDuration").value(s->state.lastDuration);
    w.key("lastSamplesScraped").value(s->state.lastSamples);
    w.key("scrapeInterval").value(durationText(t.interval));
    w.key("scrapeTimeout").value(durationText(t.timeout));
    w.endObject();
  }
  w.endArray().endObject().endObject();
  return out;
}

}  // namespace stackhouse::receivers::prometheus
