#include "sinks/logfire/logfire_config.h"

#include "config/quote.h"

namespace stackhouse::sinks::logfire {

void LogfireConfig::read(config::SectionReader& in) {
  using config::SectionReader;
  std::vector<config::SectionKey> keys{
      enabledKey(),
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
      timeoutKey(),
      {"maxRequestSize",
       [this](SectionReader& v) { v.byteSize(maxRequestSize, 64 * config::kKiB); }}};
  SectionReader::addCredentialKeys(keys, token, "tokenFile");
  keys.push_back(queueKey());
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

const config::ExporterKind kLogfireSection = config::exporterKind<LogfireConfig>("logfire");

}  // namespace stackhouse::sinks::logfire
