#include "sinks/tinybird/tinybird_config.h"

#include "config/quote.h"

namespace stackhouse::sinks::tinybird {
namespace {

// Tinybird names: a letter or underscore, then letters, digits and underscores.
bool isDatasourceName(std::string_view text) {
  if (text.empty() || text.size() > 256 || (text.front() >= '0' && text.front() <= '9')) {
    return false;
  }
  for (char c : text) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) {
      return false;
    }
  }
  return true;
}

std::function<void(config::SectionReader&)> datasource(std::string& name) {
  return [&name](config::SectionReader& v) {
    auto text = v.scalar("a data source name");
    if (!text) return;
    if (!isDatasourceName(*text)) {
      v.error(config::quoted(*text) +
              " is not a data source name (letters, digits and _, not starting with a digit)");
      return;
    }
    name = std::move(*text);
  };
}

}  // namespace

void TinybirdConfig::read(config::SectionReader& in) {
  using config::SectionReader;
  TinybirdDatasources& d = datasources;
  std::vector<config::SectionKey> keys{enabledKey(), {"endpoint", [this](SectionReader& v) {
                                                        v.url(endpoint, /*optional=*/false);
                                                      }}};
  SectionReader::addCredentialKeys(keys, token, "tokenFile");
  keys.push_back({"datasources", [&d](SectionReader& v) {
                    v.map({{"logs", datasource(d.logs)},
                           {"traces", datasource(d.traces)},
                           {"gauge", datasource(d.gauge)},
                           {"sum", datasource(d.sum)},
                           {"histogram", datasource(d.histogram)},
                           {"exponentialHistogram", datasource(d.exponentialHistogram)},
                           {"summary", datasource(d.summary)}});
                  }});
  keys.push_back({"wait", [this](SectionReader& v) { v.boolean(wait); }});
  keys.push_back(timeoutKey());
  keys.push_back({"maxRequestSize", [this](SectionReader& v) {
                    v.byteSize(maxRequestSize, 64 * config::kKiB);
                    if (maxRequestSize > 100 * config::kMiB) {
                      v.error(
                          "is above 100Mi, the largest request the Events API takes on any plan");
                    }
                  }});
  keys.push_back(queueKey());
  in.map(keys);
  in.checkCredential(enabled, token, "tokenFile");
}

void TinybirdConfig::describe(config::SectionWriter& out) const {
  out.boolean("enabled", enabled);
  out.string("endpoint", endpoint);
  out.credential(token, "tokenFile");
  config::SectionWriter d = out.nested("datasources");
  d.string("logs", datasources.logs);
  d.string("traces", datasources.traces);
  d.string("gauge", datasources.gauge);
  d.string("sum", datasources.sum);
  d.string("histogram", datasources.histogram);
  d.string("exponentialHistogram", datasources.exponentialHistogram);
  d.string("summary", datasources.summary);
  out.boolean("wait", wait);
  out.duration("timeout", timeout);
  out.byteSize("maxRequestSize", maxRequestSize);
  out.queue(queue);
}

const config::ExporterKind kTinybirdSection = config::exporterKind<TinybirdConfig>("tinybird");

}  // namespace stackhouse::sinks::tinybird
