// The scrape manager against local HTTP targets (src/http's server): scheduling, a slow target
// beside a fast one, failures and their state, body limits, gzip, credentials and negotiation.
#include "receivers/prometheus/scrape_manager.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "http/server.h"
#include "receivers/prometheus/scrape_mapper.h"

namespace stackhouse::receivers::prometheus {
namespace {

using namespace std::chrono_literals;

class CollectingOutput : public ScrapeOutput {
 public:
  pipeline::PooledBatch<telemetry::MetricBatch> acquire() override { return pool_.acquire(); }
  Status submit(pipeline::PooledBatch<telemetry::MetricBatch> batch) override {
    std::lock_guard lock(mu_);
    const auto& g = batch->gauge.common;
    for (size_t i = 0; i < batch->gauge.rows(); ++i) {
      std::string key = std::string(g.serviceName.at(i)) + "/" + std::string(g.metricName.at(i));
      values_[key] = batch->gauge.value.at(i);
      ++counts_[key];
      if (g.flags.at(i) == kNoRecordedValue && isStaleNaN(batch->gauge.value.at(i))) {
        // Stale points by series: service/name{k=<value of the k attribute>}.
        std::string k;
        for (auto a = static_cast<size_t>(g.attributes.offset(i));
             a < static_cast<size_t>(g.attributes.offset(i + 1)); ++a) {
          if (g.attributes.keys().at(a) == "k") k = std::string(g.attributes.values().at(a));
        }
        stale_.push_back(key + "{k=" + k + "}");
      }
    }
    return Status::ok();
  }
  std::vector<std::string> stale() {
    std::lock_guard lock(mu_);
    return stale_;
  }
  int count(const std::string& key) {
    std::lock_guard lock(mu_);
    return counts_[key];
  }
  double value(const std::string& key) {
    std::lock_guard lock(mu_);
    return values_[key];
  }

 private:
  pipeline::BatchPool<telemetry::MetricBatch> pool_;
  std::mutex mu_;
  std::map<std::string, int> counts_;
  std::map<std::string, double> values_;
  std::vector<std::string> stale_;
};

std::string gzip(const std::string& in) {
  z_stream z{};
  deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(in.size() + 128, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// One server, routes by path: /fast, /slow (answers after 2 s), /big, /gzip, /auth, /error, /om.
class Targets {
 public:
  Targets() {
    auto s = http::Server::start({"targets", "127.0.0.1", 0, 2},
                                 [this](http::Request&& r, http::Respond respond) {
                                   handle(std::move(r), std::move(respond));
                                 });
    EXPECT_TRUE(s.isOk());
    server_ = std::move(s.value());
  }
  ~Targets() {
    server_->stop();
    for (auto& t : slow_) t.join();
  }
  uint16_t port() const { return server_->port(); }
  std::string lastAccept() {
    std::lock_guard lock(mu_);
    return accept_;
  }

 private:
  void handle(http::Request&& r, http::Respond respond) {
    {
      std::lock_guard lock(mu_);
      accept_ = std::string(r.header("accept"));
    }
    const std::string_view path = r.path();
    if (path == "/fast") {
      respond({200, "text/plain; version=0.0.4", "# TYPE x gauge\nx 1\n", {}});
    } else if (path == "/slow") {
      std::lock_guard lock(mu_);
      slow_.emplace_back([respond = std::move(respond)] {
        std::this_thread::sleep_for(2s);
        respond({200, "text/plain", "x 2\n", {}});
      });
    } else if (path == "/big") {
      respond({200, "text/plain", std::string(10000, '#') + "\n", {}});
    } else if (path == "/gzip") {
      respond({200, "text/plain", gzip("# TYPE z gauge\nz 7\n"), {{"content-encoding", "gzip"}}});
    } else if (path == "/auth") {
      const bool ok = r.header("authorization") == "Bearer s3cret";
      respond({ok ? 200 : 401, "text/plain", ok ? "a 1\n" : "", {}});
    } else if (path == "/flaky") {
      // Two series, then one, then failures.
      int n = 0;
      {
        std::lock_guard lock(mu_);
        n = flaky_++;
      }
      if (n == 0) {
        respond({200, "text/plain", "# TYPE f gauge\nf{k=\"1\"} 1\nf{k=\"2\"} 2\n", {}});
      } else if (n == 1) {
        respond({200, "text/plain", "# TYPE f gauge\nf{k=\"1\"} 1\n", {}});
      } else {
        respond({503, "text/plain", "", {}});
      }
    } else if (path == "/om") {
      respond(
          {200, "application/openmetrics-text; version=1.0.0", "# TYPE o gauge\no 3\n# EOF\n", {}});
    } else {
      respond({500, "text/plain", "", {}});
    }
  }

  std::unique_ptr<http::Server> server_;
  std::mutex mu_;
  std::string accept_;
  std::vector<std::thread> slow_;
  int flaky_ = 0;
};

ScrapeTarget target(const std::string& job, uint16_t port, const std::string& path,
                    std::chrono::milliseconds interval = 200ms,
                    std::chrono::milliseconds timeout = 150ms) {
  ScrapeTarget t;
  t.identity.job = job;
  t.identity.instance = "127.0.0.1:" + std::to_string(port);
  t.identity.scheme = "http";
  t.identity.host = "127.0.0.1";
  t.identity.port = std::to_string(port);
  t.url = t.urlNoQuery = "http://127.0.0.1:" + std::to_string(port) + path;
  t.interval = interval;
  t.timeout = timeout;
  t.bodySizeLimit = 1 << 20;
  return t;
}

TEST(ScrapeManager, StopWithoutStartAndTwice) {
  CollectingOutput out;
  ScrapeManager m({}, {}, out);
  m.stop();
  m.stop();
  ScrapeManager started({}, {}, out);
  ASSERT_TRUE(started.start().isOk());
  started.stop();
  started.stop();
}

TEST(ScrapeManager, SlowAndFailingTargetsDoNotDelayOthers) {
  Targets server;
  CollectingOutput out;
  std::vector<ScrapeTarget> targets;
  targets.push_back(target("fast", server.port(), "/fast"));
  targets.push_back(target("slow", server.port(), "/slow"));
  targets.push_back(target("dead", 1, "/metrics"));
  targets.push_back(target("error", server.port(), "/error"));
  ScrapeTarget big = target("big", server.port(), "/big");
  big.bodySizeLimit = 1024;
  targets.push_back(big);
  ScrapeManager m(std::move(targets), {}, out);
  ASSERT_TRUE(m.start().isOk());
  std::this_thread::sleep_for(1500ms);
  const std::string json = m.targetsJson();
  m.stop();
  // The fast target kept its 200 ms interval (about 7 scrapes) although the slow one timed out
  // on every scrape.
  EXPECT_GE(out.count("fast/up"), 5) << json;
  EXPECT_EQ(out.value("fast/up"), 1);
  EXPECT_EQ(out.value("fast/x"), 1);
  EXPECT_EQ(out.value("slow/up"), 0);
  EXPECT_EQ(out.value("dead/up"), 0);
  EXPECT_EQ(out.value("error/up"), 0);
  EXPECT_EQ(out.value("big/up"), 0);
  EXPECT_NE(json.find("no answer within scrapeTimeout (150ms)"), std::string::npos) << json;
  EXPECT_NE(json.find("server returned HTTP status 500"), std::string::npos) << json;
  EXPECT_NE(json.find("the body is larger than bodySizeLimit (1024 bytes)"), std::string::npos)
      << json;
  EXPECT_NE(json.find("\"health\":\"up\""), std::string::npos) << json;
}

TEST(ScrapeManager, GzipCredentialsAndNegotiation) {
  Targets server;
  CollectingOutput out;
  std::vector<ScrapeTarget> targets;
  targets.push_back(target("gzip", server.port(), "/gzip"));
  ScrapeTarget auth = target("auth", server.port(), "/auth");
  auth.bearerToken = "s3cret";
  targets.push_back(auth);
  targets.push_back(target("noauth", server.port(), "/auth"));
  targets.push_back(target("om", server.port(), "/om"));
  ScrapeManager m(std::move(targets), {}, out);
  ASSERT_TRUE(m.start().isOk());
  std::this_thread::sleep_for(700ms);
  m.stop();
  EXPECT_EQ(out.value("gzip/z"), 7);
  EXPECT_EQ(out.value("auth/a"), 1);
  EXPECT_EQ(out.value("noauth/up"), 0);
  EXPECT_EQ(out.value("om/o"), 3);
  EXPECT_EQ(server.lastAccept(), std::string(kAcceptHeader));
}

TEST(ScrapeManager, OffsetsAreStableAndWithinTheInterval) {
  ScrapeTarget a = target("a", 9100, "/metrics", 15000ms);
  ScrapeTarget b = target("b", 9100, "/metrics", 15000ms);
  EXPECT_EQ(scrapeOffset(a), scrapeOffset(target("a", 9100, "/metrics", 15000ms)));
  EXPECT_NE(scrapeOffset(a), scrapeOffset(b));
  EXPECT_LT(scrapeOffset(a), 15000ms);
}

// Staleness through the manager: a series gone from a scrape gets its stale point at that
// scrape; when the target starts failing (up = 0) the series it last exposed get theirs, once,
// however many scrapes fail after.
TEST(ScrapeManager, StaleMarkersWhenASeriesGoesAndWhenTheTargetFails) {
  Targets server;
  CollectingOutput out;
  std::vector<ScrapeTarget> targets;
  targets.push_back(target("flaky", server.port(), "/flaky", 100ms, 90ms));
  ScrapeManager m(std::move(targets), {}, out);
  ASSERT_TRUE(m.start().isOk());
  for (int i = 0; i < 100 && m.scrapesDone() < 6; ++i) std::this_thread::sleep_for(50ms);
  m.stop();
  ASSERT_GE(m.scrapesDone(), 6u);
  EXPECT_EQ(out.stale(), (std::vector<std::string>{"flaky/f{k=2}", "flaky/f{k=1}"}));
  EXPECT_EQ(out.count("flaky/f"), 2 + 1 + 2);  // values 1, 2; value 1; the two stale points
  EXPECT_EQ(out.value("flaky/up"), 0);
}

}  // namespace
}  // namespace stackhouse::receivers::prometheus
