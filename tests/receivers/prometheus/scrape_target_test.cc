// The factory: prometheusScrape resolved into targets (URLs, defaults, credentials, self).
#include "receivers/prometheus/scrape_target.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "support/temp_dir.h"

namespace stackhouse::receivers::prometheus {
namespace {

using namespace std::chrono_literals;

ScrapeJobConfig job(const std::string& name, std::vector<std::string> targets) {
  ScrapeJobConfig j;
  j.jobName = name;
  j.targets = std::move(targets);
  return j;
}

TEST(ResolveTargets, UrlsDefaultsAndSelf) {
  PrometheusScrapeConfig c;
  c.enabled = true;
  c.scrapeInterval = 5s;  // shorter than the 10s default timeout: the timeout is capped
  ScrapeJobConfig j = job("probe", {"a.example:9115", "[::1]:9115"});
  j.metricsPath = "/probe";
  j.params = {{"module", {"http_2xx"}}, {"target", {"https://x.example/?a=b c"}}};
  j.labels = {{"env", "prod"}};
  j.sampleLimit = 10;
  j.labelLimit = 20;
  c.scrapeJobs.push_back(j);
  auto r = resolveTargets(c, "/nonexistent", 8888);
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  const auto& t = r.value();
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[0].identity.job, "stackhouse");
  EXPECT_EQ(t[0].url, "http://127.0.0.1:8888/metrics");
  EXPECT_EQ(
      t[1].url,
      "http://a.example:9115/probe?module=http_2xx&target=https%3A%2F%2Fx.example%2F%3Fa%3Db%20c");
  EXPECT_EQ(t[1].urlNoQuery, "http://a.example:9115/probe");
  EXPECT_EQ(t[1].interval, 5s);
  EXPECT_EQ(t[1].timeout, 5s);
  EXPECT_EQ(t[1].bodySizeLimit, 64ull << 20);
  EXPECT_EQ(t[1].limits.sampleLimit, 10u);
  EXPECT_EQ(t[1].limits.parse.maxLabels, 20u);
  EXPECT_EQ(t[1].identity.labels.size(), 1u);
  EXPECT_EQ(t[2].identity.host, "::1");
  EXPECT_EQ(t[2].identity.port, "9115");
  EXPECT_EQ(t[2].identity.instance, "[::1]:9115");
  // Without self, or without an admin port, only the jobs.
  c.self = false;
  EXPECT_EQ(resolveTargets(c, "/nonexistent", 8888).value().size(), 2u);
}

TEST(ResolveTargets, Credentials) {
  const stackhouse::testing::TempDir dir;
  std::filesystem::create_directories(dir.path() + "/scrape");
  std::ofstream(dir.path() + "/scrape/token") << "t0ken\n";
  std::ofstream(dir.path() + "/pw") << "secret";
  PrometheusScrapeConfig c;
  ScrapeJobConfig bearer = job("bearer", {"a:1"});
  bearer.bearerToken.existingSecret = "scrape";
  bearer.bearerToken.secretKey = "token";
  ScrapeJobConfig basic = job("basic", {"b:1"});
  basic.basicAuth.username = "u";
  basic.basicAuth.password.file = dir.path() + "/pw";
  ScrapeJobConfig tls = job("tls", {"10.0.0.1:443"});
  tls.scheme = "https";
  tls.tls.serverName = "api.internal";
  c.scrapeJobs = {bearer, basic, tls};
  auto r = resolveTargets(c, dir.path(), 0);
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  EXPECT_EQ(r.value()[0].bearerToken, "t0ken");
  EXPECT_EQ(r.value()[1].basicUsername, "u");
  EXPECT_EQ(r.value()[1].basicPassword, "secret");
  EXPECT_EQ(r.value()[2].url, "https://api.internal:443/metrics");
  EXPECT_EQ(r.value()[2].connectTo, "api.internal:443:10.0.0.1:443");

  c.scrapeJobs[0].bearerToken.secretKey = "missing";
  auto bad = resolveTargets(c, dir.path(), 0);
  ASSERT_FALSE(bad.isOk());
  EXPECT_NE(bad.status().message().find("prometheusScrape.scrapeJobs (job bearer) bearerToken: "
                                        "cannot read"),
            std::string::npos)
      << bad.status().message();
}

}  // namespace
}  // namespace stackhouse::receivers::prometheus
