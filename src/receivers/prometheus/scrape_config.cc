#include "receivers/prometheus/scrape_config.h"

#include <algorithm>

#include "config/quote.h"
#include "config/units.h"

namespace stackhouse::receivers::prometheus {
namespace {

using config::quoted;
using config::SectionKey;
using config::SectionReader;
using config::SectionWriter;

constexpr std::chrono::nanoseconds kMinInterval = std::chrono::seconds(1);
constexpr std::chrono::nanoseconds kMinTimeout = std::chrono::milliseconds(10);
constexpr std::chrono::nanoseconds kMaxDuration = std::chrono::hours(24);

bool isLabelName(std::string_view n) {
  if (n.empty()) return false;
  for (size_t i = 0; i < n.size(); ++i) {
    const char c = n[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

// host:port: a DNS name or an IPv4 address, or [IPv6]; a port of 1..65535; nothing else (no
// scheme, path or query: those are the job's scheme, metricsPath and params).
bool isScrapeTarget(std::string_view t) {
  const size_t colon = t.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  std::string_view host = t.substr(0, colon);
  std::string_view port = t.substr(colon + 1);
  if (port.empty() || port.size() > 5) return false;
  uint32_t n = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<uint32_t>(c - '0');
  }
  if (n == 0 || n > 65535) return false;
  if (host.front() == '[') {
    if (host.back() != ']' || host.size() < 3) return false;
    for (char c : host.substr(1, host.size() - 2)) {
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
            c == ':' || c == '.'))
        return false;
    }
    return true;
  }
  if (host.size() > 253) return false;
  for (char c : host) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
          c == '.' || c == '_'))
      return false;
  }
  return true;
}

// The keys of a credential: existingSecret and secretKey, and `fileKey` (passwordFile, file).
void addCredentialKeys(std::vector<SectionKey>& keys, config::CredentialConfig& out,
                       std::string_view fileKey) {
  keys.push_back({"existingSecret", [&out](SectionReader& v) { v.string(out.existingSecret); }});
  keys.push_back({"secretKey", [&out](SectionReader& v) { v.string(out.secretKey); }});
  keys.push_back({fileKey, [&out](SectionReader& v) { v.filePath(out.file); }});
}

// Exactly one source: the file, or existingSecret with its secretKey.
void checkCredential(SectionReader& in, const config::CredentialConfig& c,
                     std::string_view fileKey) {
  if (c.file.empty() == c.existingSecret.empty()) {
    in.error("set " + std::string(fileKey) + " or existingSecret + secretKey, exactly one");
  } else if (!c.existingSecret.empty() && c.secretKey.empty()) {
    in.error("existingSecret needs its secretKey");
  }
}

void readTargets(SectionReader& in, std::vector<std::string>& out) {
  in.list("a list of targets such as [\"host:9100\"]", [&out](SectionReader& item) {
    auto text = item.scalar("a target such as host:9100");
    if (!text) return;
    if (!isScrapeTarget(*text)) {
      item.error(quoted(*text) +
                 " is not a target such as host:9100 (a host and a port, no scheme or path)");
    } else if (std::find(out.begin(), out.end(), *text) != out.end()) {
      item.error(quoted(*text) + " is listed twice");
    }
    out.push_back(std::move(*text));
  });
}

void readParams(SectionReader& in, ScrapeJobConfig& job) {
  in.entries("a map of query parameters such as {module: [http_2xx]}",
             [&job](const std::string& name, SectionReader& v) {
               std::vector<std::string> values;
               if (v.isList()) {
                 v.stringList(values, "values");
               } else if (auto text = v.scalar("a value or a list of values")) {
                 values.push_back(std::move(*text));
               }
               job.params.emplace_back(name, std::move(values));
             });
}

void readLabels(SectionReader& in, ScrapeJobConfig& job) {
  in.entries("a map of labels such as {env: prod}",
             [&job](const std::string& name, SectionReader& v) {
               if (!isLabelName(name) || name.starts_with("__")) {
                 v.error("not a label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with __)");
                 return;
               }
               if (name == "job" || name == "instance") {
                 v.error("job and instance are set by the scrape itself");
                 return;
               }
               if (auto text = v.scalar("a string"))
                 job.labels.emplace_back(name, std::move(*text));
             });
}

void readBasicAuth(SectionReader& in, ScrapeBasicAuthConfig& out) {
  std::vector<SectionKey> keys{{"username", [&out](SectionReader& v) { v.string(out.username); }}};
  addCredentialKeys(keys, out.password, "passwordFile");
  in.map(keys);
  if (out.username.empty()) {
    in.error("basic auth needs a username", "username");
  } else {
    checkCredential(in, out.password, "passwordFile");
  }
}

void readTls(SectionReader& in, ScrapeTlsConfig& out, std::string_view scheme) {
  in.map({{"caFile", [&out](SectionReader& v) { v.filePath(out.caFile); }},
          {"certFile", [&out](SectionReader& v) { v.filePath(out.certFile); }},
          {"keyFile", [&out](SectionReader& v) { v.filePath(out.keyFile); }},
          {"serverName", [&out](SectionReader& v) { v.string(out.serverName); }},
          {"insecureSkipVerify", [&out](SectionReader& v) { v.boolean(out.insecureSkipVerify); }}});
  if (out.certFile.empty() != out.keyFile.empty()) {
    in.error("a client certificate needs both certFile and keyFile");
  }
  if (scheme != "https") in.error("tls is set but the scheme is " + quoted(scheme));
}

void readJob(SectionReader& in, ScrapeJobConfig& out, const PrometheusScrapeConfig& section) {
  in.map({
      {"jobName", [&out](SectionReader& v) { v.string(out.jobName); }},
      {"scrapeInterval",
       [&out](SectionReader& v) { v.duration(out.scrapeInterval, kMinInterval, kMaxDuration); }},
      // Checked against the interval, set above it, below it or on the section.
      {"scrapeTimeout",
       [&out, &section](SectionReader& v) {
         v.duration(out.scrapeTimeout, kMinTimeout, kMaxDuration);
         const auto interval =
             out.scrapeInterval.count() != 0 ? out.scrapeInterval : section.scrapeInterval;
         if (out.scrapeTimeout > interval) {
           v.error(config::formatDuration(out.scrapeTimeout) +
                   " is longer than the scrape interval " + config::formatDuration(interval));
         }
       },
       /*afterOthers=*/true},
      {"metricsPath",
       [&out](SectionReader& v) {
         v.string(out.metricsPath);
         if (out.metricsPath.empty() || out.metricsPath[0] != '/' ||
             out.metricsPath.find_first_of("?# \t\r\n") != std::string::npos) {
           v.error(quoted(out.metricsPath) +
                   " is not a URL path such as /metrics (query parameters go in params)");
         }
       }},
      {"scheme",
       [&out](SectionReader& v) {
         v.string(out.scheme);
         if (out.scheme != "http" && out.scheme != "https") {
           v.error(quoted(out.scheme) + " is not http or https");
         }
       }},
      {"params", [&out](SectionReader& v) { readParams(v, out); }},
      {"honorLabels", [&out](SectionReader& v) { v.boolean(out.honorLabels); }},
      {"honorTimestamps", [&out](SectionReader& v) { v.boolean(out.honorTimestamps); }},
      {"targets", [&out](SectionReader& v) { readTargets(v, out.targets); }},
      {"labels", [&out](SectionReader& v) { readLabels(v, out); }},
      {"sampleLimit", [&out](SectionReader& v) { v.count(out.sampleLimit, 0, 100'000'000); }},
      {"labelLimit", [&out](SectionReader& v) { v.count(out.labelLimit, 0, 1024); }},
      {"labelNameLengthLimit",
       [&out](SectionReader& v) { v.count(out.labelNameLengthLimit, 0, 1u << 20); }},
      {"labelValueLengthLimit",
       [&out](SectionReader& v) { v.count(out.labelValueLengthLimit, 0, 1u << 24); }},
      {"bodySizeLimit", [&out](SectionReader& v) { v.byteSize(out.bodySizeLimit, config::kKiB); }},
      {"basicAuth", [&out](SectionReader& v) { readBasicAuth(v, out.basicAuth); }},
      {"bearerToken",
       [&out](SectionReader& v) {
         std::vector<SectionKey> keys;
         addCredentialKeys(keys, out.bearerToken, "file");
         v.map(keys);
         checkCredential(v, out.bearerToken, "file");
       }},
      // Checked against the scheme, wherever it is set.
      {"tls", [&out](SectionReader& v) { readTls(v, out.tls, out.scheme); }, /*afterOthers=*/true},
  });
  if (out.jobName.empty()) in.error("every job needs a jobName", "jobName");
  if (out.targets.empty()) in.error("every job needs at least one target", "targets");
  if (!out.basicAuth.username.empty() && !out.bearerToken.empty()) {
    in.error("set basicAuth or bearerToken, not both");
  }
}

void describeCredential(SectionWriter& out, const config::CredentialConfig& c,
                        std::string_view fileKey) {
  if (!c.file.empty()) out.string(fileKey, c.file);
  if (!c.existingSecret.empty()) {
    out.string("existingSecret", c.existingSecret);
    out.string("secretKey", c.secretKey);
  }
}

void describeJob(SectionWriter& out, const ScrapeJobConfig& j) {
  out.string("jobName", j.jobName);
  if (j.scrapeInterval.count() != 0) out.duration("scrapeInterval", j.scrapeInterval);
  if (j.scrapeTimeout.count() != 0) out.duration("scrapeTimeout", j.scrapeTimeout);
  out.string("metricsPath", j.metricsPath);
  out.string("scheme", j.scheme);
  if (!j.params.empty()) {
    SectionWriter params = out.nested("params");
    for (const auto& [name, values] : j.params) params.strings(quoted(name), values);
  }
  out.boolean("honorLabels", j.honorLabels);
  out.boolean("honorTimestamps", j.honorTimestamps);
  out.strings("targets", j.targets);
  if (!j.labels.empty()) {
    SectionWriter labels = out.nested("labels");
    for (const auto& [name, value] : j.labels) labels.string(name, value);
  }
  out.number("sampleLimit", j.sampleLimit);
  out.number("labelLimit", j.labelLimit);
  out.number("labelNameLengthLimit", j.labelNameLengthLimit);
  out.number("labelValueLengthLimit", j.labelValueLengthLimit);
  if (j.bodySizeLimit != 0) out.byteSize("bodySizeLimit", j.bodySizeLimit);
  if (!j.basicAuth.username.empty()) {
    SectionWriter basic = out.nested("basicAuth");
    basic.string("username", j.basicAuth.username);
    describeCredential(basic, j.basicAuth.password, "passwordFile");
  }
  if (!j.bearerToken.empty()) {
    SectionWriter bearer = out.nested("bearerToken");
    describeCredential(bearer, j.bearerToken, "file");
  }
  if (j.scheme == "https") {
    SectionWriter tls = out.nested("tls");
    tls.string("caFile", j.tls.caFile);
    tls.string("certFile", j.tls.certFile);
    tls.string("keyFile", j.tls.keyFile);
    tls.string("serverName", j.tls.serverName);
    tls.boolean("insecureSkipVerify", j.tls.insecureSkipVerify);
  }
}

}  // namespace

void PrometheusScrapeConfig::read(SectionReader& in) {
  std::vector<int> jobLines;  // where each job of scrapeJobs begins, for duplicate names
  in.map({
      {"enabled", [this](SectionReader& v) { v.boolean(enabled); }},
      {"self", [this](SectionReader& v) { v.boolean(self); }},
      {"scrapeInterval",
       [this](SectionReader& v) { v.duration(scrapeInterval, kMinInterval, kMaxDuration); }},
      {"scrapeTimeout",
       [this](SectionReader& v) { v.duration(scrapeTimeout, kMinTimeout, kMaxDuration); }},
      {"bodySizeLimit", [this](SectionReader& v) { v.byteSize(bodySizeLimit, config::kKiB); }},
      {"maxConcurrentScrapes",
       [this](SectionReader& v) { v.count(maxConcurrentScrapes, 1, 4096); }},
      // The jobs take their defaults from the keys above, wherever those stand in the file.
      {"scrapeJobs",
       [this, &jobLines](SectionReader& v) {
         v.list("a list of jobs (- jobName: ...)", [this, &jobLines](SectionReader& item) {
           ScrapeJobConfig job;
           readJob(item, job, *this);
           for (size_t i = 0; i < scrapeJobs.size(); ++i) {
             if (!job.jobName.empty() && scrapeJobs[i].jobName == job.jobName) {
               item.error(quoted(job.jobName) + " is the name of another job (line " +
                              std::to_string(jobLines[i]) + "); job names must be unique",
                          "jobName");
             }
           }
           if (job.jobName == "stackhouse" && self) {
             item.error("\"stackhouse\" is the job of prometheusScrape.self; choose another name",
                        "jobName");
           }
           scrapeJobs.push_back(std::move(job));
           jobLines.push_back(item.line());
         });
       },
       /*afterOthers=*/true},
  });
}

void PrometheusScrapeConfig::describe(SectionWriter& out) const {
  out.boolean("enabled", enabled);
  out.boolean("self", self);
  out.duration("scrapeInterval", scrapeInterval);
  out.duration("scrapeTimeout", scrapeTimeout);
  out.byteSize("bodySizeLimit", bodySizeLimit);
  out.number("maxConcurrentScrapes", maxConcurrentScrapes);
  SectionWriter jobs = out.list("scrapeJobs", scrapeJobs.size());
  for (const ScrapeJobConfig& job : scrapeJobs) {
    SectionWriter item = jobs.item();
    describeJob(item, job);
  }
}

const config::ReceiverKind kPrometheusScrapeKind =
    config::receiverKind<PrometheusScrapeConfig>(kPrometheusScrape);

}  // namespace stackhouse::receivers::prometheus
