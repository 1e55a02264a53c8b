#include "receivers/prometheus/scrape_target.h"

#include "config/secret.h"

namespace stackhouse::receivers::prometheus {
namespace {

// Percent-encoding of a query component (RFC 3986 unreserved characters kept).
void appendQueryEscaped(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
}

void splitHostPort(const std::string& target, std::string& host, std::string& port) {
  const size_t colon = target.rfind(':');
  host = target.substr(0, colon);
  port = target.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
}

}  // namespace

std::chrono::nanoseconds scrapeOffset(const ScrapeTarget& target) {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&h](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ull;
    }
    h ^= 0xff;
    h *= 1099511628211ull;
  };
  mix(target.identity.job);
  mix(target.url);
  const auto interval = static_cast<uint64_t>(target.interval.count());
  return std::chrono::nanoseconds(interval == 0 ? 0 : static_cast<int64_t>(h % interval));
}

Result<std::vector<ScrapeTarget>> resolveTargets(const PrometheusScrapeConfig& config,
                                                 const std::string& secretsDir, uint16_t selfPort) {
  std::vector<ScrapeTarget> out;
  std::vector<ScrapeJobConfig> jobs = config.scrapeJobs;
  if (config.self && selfPort != 0) {
    ScrapeJobConfig self;
    self.jobName = "stackhouse";
    self.targets = {"127.0.0.1:" + std::to_string(selfPort)};
    jobs.insert(jobs.begin(), std::move(self));
  }
  for (size_t i = 0; i < jobs.size(); ++i) {
    const ScrapeJobConfig& job = jobs[i];
    const std::string key = job.jobName == "stackhouse" && i == 0 && config.self && selfPort != 0
                                ? std::string("prometheusScrape.self")
                                : "prometheusScrape.scrapeJobs (job " + job.jobName + ")";
    std::string bearer, user, password;
    if (!job.bearerToken.empty()) {
      auto token = config::readCredential(job.bearerToken, secretsDir, key + " bearerToken");
      if (!token.isOk()) return token.status();
      bearer = std::move(token.value());
    }
    if (!job.basicAuth.username.empty()) {
      auto pw = config::readCredential(job.basicAuth.password, secretsDir, key + " basicAuth");
      if (!pw.isOk()) return pw.status();
      user = job.basicAuth.username;
      password = std::move(pw.value());
    }
    const auto interval =
        job.scrapeInterval.count() != 0 ? job.scrapeInterval : config.scrapeInterval;
    auto timeout = job.scrapeTimeout.count() != 0 ? job.scrapeTimeout : config.scrapeTimeout;
    if (timeout > interval) timeout = interval;
    std::string query;
    for (const auto& [name, values] : job.params) {
      for (const std::string& v : values) {
        query += query.empty() ? '?' : '&';
        appendQueryEscaped(query, name);
        query += '=';
        appendQueryEscaped(query, v);
      }
    }
    for (const std::string& t : job.targets) {
      ScrapeTarget target;
      target.identity.job = job.jobName;
      target.identity.instance = t;
      target.identity.scheme = job.scheme;
      splitHostPort(t, target.identity.host, target.identity.port);
      for (const auto& [name, value] : job.labels) target.identity.labels.emplace_back(name, value);
      target.identity.honorLabels = job.honorLabels;
      target.identity.honorTimestamps = job.honorTimestamps;
      std::string authority = t;
      if (!job.tls.serverName.empty() && job.scheme == "https") {
        authority = job.tls.serverName + ":" + target.identity.port;
        target.connectTo = job.tls.serverName + ":" + target.identity.port + ":" +
                           (t.front() == '[' ? t.substr(0, t.rfind(':')) : target.identity.host) +
                           ":" + target.identity.port;
      }
      target.urlNoQuery = job.scheme + "://" + authority + job.metricsPath;
      target.url = target.urlNoQuery + query;
      target.interval = interval;
      target.timeout = timeout;
      target.limits.sampleLimit = job.sampleLimit;
      target.limits.parse.maxLabels = job.labelLimit;
      target.limits.parse.maxLabelNameBytes = job.labelNameLengthLimit;
      target.limits.parse.maxLabelValueBytes = job.labelValueLengthLimit;
      target.bodySizeLimit = job.bodySizeLimit != 0 ? job.bodySizeLimit : config.bodySizeLimit;
      target.bearerToken = bearer;
      target.basicUsername = user;
      target.basicPassword = password;
      target.tls = job.tls;
      out.push_back(std::move(target));
    }
  }
  return out;
}

}  // namespace stackhouse::receivers::prometheus
