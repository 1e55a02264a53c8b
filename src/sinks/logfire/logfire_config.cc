#include "sinks/logfire/logfire_config.h"

#include "config/quote.h"

namespace stackhouse::sinks::logfire {

void LogfireConfig::read(config::SectionReader& in) {
  using config::SectionReader;
  std::vector<config::SectionKey> keys{
      {"enabled", [this](SectionReader& v) { v.boolean(enabled); }},
      {"region",
       [this](SectionReader& v) {
         auto text = v.scalar("us or eu");
         if (!text) return;
         if (*text != "us" && *text != "eu") {
           v.error(config::quoted(*text) +
                   " is not a Logfire region; expected us or eu (or set endpoint)");
           return;
         }
         region = std::move(*text);
       }},
      {"endpoint", [this](SectionReader& v) { v.url(endpoint, /*optional=*/true); }},
      {"timeout",
       [this](SectionReader& v) {
         v.duration(timeout, std::chrono::seconds(1), std::chrono::minutes(5));
       }},
      {"maxRequestSize",
       [this](SectionReader& v) { v.byteSize(maxRequestSize, 64 * config::kKiB); }}};
  for (auto& key : SectionReader::credentialKeys(token, "tokenFile")) keys.push_back(key);
  keys.push_back({"queue", [this](SectionReader& v) { v.queue(queue); }});
  in.map(keys);
  in.checkCredential(enabled, token, "tokenFile");
}

void LogfireConfig::describe(config::SectionWriter& out) const {
  out.boolean("enabled", enabled);
  out.string("region", region);
  out.string("endpoint", endpoint);
  out.credential(token, "tokenFile");
  out.duration("timeout", timeout);
  out.byteSize("maxRequestSize", maxRequestSize);
  out.queue(queue);
}

const config::ExporterKind kLogfireSection{
    "logfire", [] { return std::unique_ptr<config::ExporterSection>(new LogfireConfig()); }};

}  // namespace stackhouse::sinks::logfire
