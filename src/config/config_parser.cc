// parseConfig and loadConfig: walks the YAML tree against the keys that exist today.
//
// yaml-cpp builds the tree; this file checks it. Every map is read by readMap with the list of
// its keys, so an unknown, misspelt or duplicated key is caught where it sits. Errors are
// collected (up to kMaxErrors) rather than thrown one by one, so a pasted file with several
// problems is fixed in one round.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "config/config.h"
#include "config/quote.h"

namespace stackhouse::config {
namespace {

constexpr size_t kMaxErrors = 20;
// A configuration file is a few kilobytes; anything near this is the wrong file.
constexpr size_t kMaxFileBytes = 1 << 20;

constexpr uint32_t kMinBatchRows = 1;
constexpr uint32_t kMaxBatchRows = 1'000'000;
constexpr uint32_t kMaxMemoryMiB = 1u << 20;  // 1 TiB
constexpr uint32_t kMinEngineMiB = 128;
constexpr uint32_t kMaxGrpcMessageMiB = 2047;  // grpc's sizes are ints
constexpr uint32_t kMaxGrpcStreams = 1'000'000;
// 0 is no retention (as in the Collector's ClickHouse exporter); any other value at least 1h.
constexpr std::chrono::nanoseconds kMinTtl = std::chrono::hours(1);
// The store raises its partitions-per-insert limit by this many days (see ChdbStore).
constexpr std::chrono::nanoseconds kMaxFutureSkew = std::chrono::hours(31 * 24);
constexpr std::chrono::nanoseconds kMinBatchTimeout = std::chrono::milliseconds(1);
constexpr std::chrono::nanoseconds kMaxBatchTimeout = std::chrono::seconds(60);
constexpr uint64_t kMinByteLimit = kKiB;

// One value to read: its node, where to report it, and its key path.
struct Slot {
  YAML::Node node;
  YAML::Mark mark;
  std::string path;
};

std::string joinPath(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  std::string path(parent);
  path += '.';
  path += key;
  return path;
}

std::string describeNode(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: return "a map";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Scalar: return quoted(node.Scalar());
    default: return "no value";
  }
}

// yaml-cpp tags a plain scalar "?"; a quoted or block scalar "!"; an explicit tag by its name.
bool isPlainOr(const YAML::Node& node, std::string_view explicitTag) {
  return node.Tag() == "?" || node.Tag() == explicitTag;
}

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Optimal string alignment distance: Levenshtein plus adjacent transpositions (dataDri).
size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

// The closest candidate when it is a plausible typo: the same letters in another case, or at
// most two edits away (and fewer edits than the candidate has letters).
std::optional<std::string_view> suggest(std::string_view name,
                                        const std::vector<std::string_view>& candidates) {
  std::optional<std::string_view> best;
  size_t bestDistance = 3;
  for (std::string_view candidate : candidates) {
    if (lowercase(candidate) == lowercase(name)) return candidate;
    size_t distance = editDistance(name, candidate);
    if (distance < bestDistance && distance < candidate.size()) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

// `"text" is not <what>; expected a, b or c`, and the closest choice when it looks like a typo.
std::string notAmong(std::string_view text, std::string_view what,
                     const std::vector<std::string_view>& choices) {
  std::string problem =
      quoted(text) + " is not " + std::string(what) + "; expected " + joinNames(choices, " or ");
  if (auto near = suggest(text, choices)) {
    problem += "; did you mean ";
    problem += *near;
    problem += "?";
  }
  return problem;
}

// yaml-cpp's message for a tab in indentation ("illegal map value") does not mention the tab.
std::string tabHint(std::string_view yaml, const YAML::Mark& mark) {
  if (mark.line < 0) return "";
  size_t start = 0;
  for (int line = 0; line < mark.line && start != std::string_view::npos; ++line) {
    start = yaml.find('\n', start);
    if (start != std::string_view::npos) ++start;
  }
  if (start == std::string_view::npos) return "";
  for (size_t i = start; i < yaml.size() && (yaml[i] == ' ' || yaml[i] == '\t'); ++i) {
    if (yaml[i] == '\t') return " (the line is indented with a tab; YAML indents with spaces)";
  }
  return "";
}

class ConfigParser {
 public:
  ConfigParser(std::string_view fileName, const SectionKinds& kinds)
      : fileName_(fileName), kinds_(kinds) {}

  Config parse(std::string_view yaml);

 private:
  struct Field {
    std::string_view name;
    std::function<void(const Slot&)> read;
  };

  void readRoot(const Slot& slot, Config& config);
  void readClickstack(const Slot& slot, ClickstackConfig& out);
  void readOtelConfig(const Slot& slot, OtelConfig& out);
  void readRouting(const Slot& slot, RoutingConfig& out);
  void readExporters(const Slot& slot, ExportersConfig& out);
  void readProcessors(const Slot& slot, ProcessorsConfig& out);
  void readRedaction(const Slot& slot, RedactionProcessorConfig& out);
  // otelConfig.exporters.clickhouse's keys of a remote ClickHouse, and their checks together.
  // The section's slot is kept for the checks made once the whole file is read.
  std::vector<Field> clickhouseRemoteFields(const Slot& section, ClickhouseExporterConfig& out);
  void checkClickhouseRemote(const Slot& slot, const ClickhouseExporterConfig& c);
  void readPersistence(const Slot& slot, PersistenceConfig& out);
  bool readRedactionAction(const Slot& slot, RedactionAction& out, bool allowRemove);
  void readStringList(const Slot& slot, std::vector<std::string>& out, std::string_view what);

  // A map whose keys are `fields`. Null (a key with nothing after it) counts as an empty map,
  // as in the Collector's `processors: {batch:}`. `planned` are keys of the reference whose
  // feature is not built: still unknown, with a message that says so.
  void readMap(const Slot& slot, const std::vector<Field>& fields,
               const std::vector<std::string_view>& planned = {});
  // The scalar's text, or an error naming `expected` when the node is a map, list or null.
  std::optional<std::string> scalar(const Slot& slot, std::string_view expected);
  bool readBool(const Slot& slot, bool& out);
  // A non-empty path without a NUL byte; `what` names it in messages.
  void readPath(const Slot& slot, std::string& out, std::string_view what = "a directory path");
  // Any string, empty included (names, e-mail addresses, secret names).
  void readString(const Slot& slot, std::string& out);
  void readQuery(const Slot& slot, QueryConfig& out);
  void readRowCount(const Slot& slot, uint32_t& out, uint32_t min, uint32_t max);
  void readEndpoint(const Slot& slot, Endpoint& out);
  void readDuration(const Slot& slot, std::chrono::nanoseconds& out, std::chrono::nanoseconds min,
                    std::optional<std::chrono::nanoseconds> max, bool wholeSeconds);
  void readByteSize(const Slot& slot, uint64_t& out, uint64_t min);
  void readSinks(const Slot& slot, std::vector<std::string>& out);
  // An http:// or https:// URL without user info, query or fragment; "" allowed when `optional`.
  void readUrl(const Slot& slot, std::string& out, bool optional);
  void readQueue(const Slot& slot, QueueConfig& out);
  void checkListeners(const Config& config);
  void checkQueueBudget(const Config& config);

  // The reader of a section owned by a sink or a receiver (section.h).
  std::function<void(const Slot&)> ownSection(Section& section);

  std::string location(const YAML::Mark& mark) const;
  void error(const YAML::Mark& mark, std::string_view path, std::string_view problem);

  friend class SlotReader;

  std::string fileName_;
  SectionKinds kinds_;
  std::vector<std::string> errors_;
  size_t moreErrors_ = 0;
  // Where each listener endpoint was set in the file, to point collision errors at it.
  std::map<std::string, YAML::Mark, std::less<>> endpointMarks_;
  YAML::Mark logSizeMark_;
  std::optional<Slot> clickhouseSection_;  // otelConfig.exporters.clickhouse, when present
};

// A sink's or a receiver's own section (section.h) read through the parser: the same checks, the
// same messages, the same list of errors as every other key.
class SlotReader final : public SectionReader {
 public:
  SlotReader(ConfigParser& parser, const Slot& slot) : parser_(parser), slot_(slot) {}

  const std::string& path() const override { return slot_.path; }

  void map(const std::vector<SectionKey>& keys) override {
    std::vector<ConfigParser::Field> fields;
    fields.reserve(keys.size());
    std::vector<std::pair<const SectionKey*, Slot>> later;
    for (const SectionKey& key : keys) {
      fields.push_back({key.name, [this, &key, &later](const Slot& value) {
                          if (key.afterOthers) {
                            later.emplace_back(&key, value);
                            return;
                          }
                          SlotReader reader(parser_, value);
                          key.read(reader);
                        }});
    }
    parser_.readMap(slot_, fields);
    for (const auto& [key, value] : later) {
      SlotReader reader(parser_, value);
      key->read(reader);
    }
  }
  std::optional<std::string> scalar(std::string_view expected) override {
    return parser_.scalar(slot_, expected);
  }
  void boolean(bool& out) override { parser_.readBool(slot_, out); }
  void string(std::string& out) override { parser_.readString(slot_, out); }
  void url(std::string& out, bool optional) override { parser_.readUrl(slot_, out, optional); }
  void duration(std::chrono::nanoseconds& out, std::chrono::nanoseconds min,
                std::optional<std::chrono::nanoseconds> max) override {
    parser_.readDuration(slot_, out, min, max, /*wholeSeconds=*/false);
  }
  void byteSize(uint64_t& out, uint64_t min) override { parser_.readByteSize(slot_, out, min); }
  void queue(QueueConfig& out) override { parser_.readQueue(slot_, out); }
  void oneOf(std::string& out, const std::vector<std::string_view>& choices,
             std::string_view what) override {
    auto text = scalar(std::string(what) + " such as " + std::string(choices.front()));
    if (!text) return;
    if (std::find(choices.begin(), choices.end(), *text) != choices.end()) {
      out = std::move(*text);
      return;
    }
    error(notAmong(*text, what, choices), {});
  }
  void filePath(std::string& out) override { parser_.readPath(slot_, out, "a file path"); }
  void count(uint32_t& out, uint32_t min, uint32_t max) override {
    parser_.readRowCount(slot_, out, min, max);
  }
  void stringList(std::vector<std::string>& out, std::string_view what) override {
    parser_.readStringList(slot_, out, what);
  }
  void list(std::string_view expected, const std::function<void(SectionReader&)>& item) override {
    if (slot_.node.IsNull()) return;
    if (!slot_.node.IsSequence()) {
      error("expected " + std::string(expected) + "; got " + describeNode(slot_.node), {});
      return;
    }
    size_t index = 0;
    for (const auto& node : slot_.node) {
      const Slot s{node, node.IsNull() ? slot_.mark : node.Mark(),
                   slot_.path + "[" + std::to_string(index++) + "]"};
      SlotReader reader(parser_, s);
      item(reader);
    }
  }
  void entries(std::string_view expected,
               const std::function<void(const std::string&, SectionReader&)>& entry) override {
    if (slot_.node.IsNull()) return;
    if (!slot_.node.IsMap()) {
      error("expected " + std::string(expected) + "; got " + describeNode(slot_.node), {});
      return;
    }
    for (const auto& kv : slot_.node) {
      if (!kv.first.IsScalar()) {
        parser_.error(kv.first.Mark(), slot_.path,
                      "a key must be a name; got " + describeNode(kv.first));
        continue;
      }
      const std::string& name = kv.first.Scalar();
      const Slot s{kv.second, kv.first.Mark(), joinPath(slot_.path, name)};
      SlotReader reader(parser_, s);
      entry(name, reader);
    }
  }
  bool isList() const override { return slot_.node.IsSequence(); }
  int line() const override { return slot_.mark.line + 1; }
  void error(std::string_view problem, std::string_view subkey) override {
    parser_.error(slot_.mark, subkey.empty() ? slot_.path : joinPath(slot_.path, subkey), problem);
  }

 private:
  ConfigParser& parser_;
  const Slot& slot_;
};

std::function<void(const Slot&)> ConfigParser::ownSection(Section& section) {
  return [this, &section](const Slot& s) {
    SlotReader reader(*this, s);
    section.read(reader);
  };
}

std::string ConfigParser::location(const YAML::Mark& mark) const {
  // yaml-cpp marks are 0-based; editors count from 1. yaml-cpp's "no position" mark (-1) is
  // reported at the start of the file rather than as line 0.
  int line = mark.line < 0 ? 1 : mark.line + 1;
  int column = mark.column < 0 ? 1 : mark.column + 1;
  return fileName_ + ":" + std::to_string(line) + ":" + std::to_string(column) + ": ";
}

void ConfigParser::error(const YAML::Mark& mark, std::string_view path, std::string_view problem) {
  if (errors_.size() == kMaxErrors) {
    ++moreErrors_;
    return;
  }
  std::string message = location(mark);
  if (!path.empty()) {
    message += path;
    message += ": ";
  }
  message += problem;
  errors_.push_back(std::move(message));
}

Config ConfigParser::parse(std::string_view yaml) {
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(std::string(yaml));
  } catch (const YAML::Exception& e) {
    std::string hint = e.msg.find("tab") == std::string::npos ? tabHint(yaml, e.mark) : "";
    throw ConfigError(location(e.mark) + "invalid YAML: " + e.msg + hint);
  }
  // Empty documents (a leading or trailing ---) are harmless; a second real one is ambiguous.
  std::erase_if(documents, [](const YAML::Node& d) { return d.IsNull(); });
  Config config = defaultConfig(kinds_);
  if (documents.size() > 1) {
    error(documents[1].Mark(), "", "a second YAML document; the file must hold one");
  } else if (documents.size() == 1) {
    readRoot(Slot{documents[0], documents[0].Mark(), ""}, config);
  }
  if (clickhouseSection_) {
    checkClickhouseRemote(*clickhouseSection_, config.otelConfig.exporters.clickhouse);
  }
  if (errors_.empty()) checkListeners(config);
  if (errors_.empty()) checkQueueBudget(config);
  if (!errors_.empty()) {
    std::string message;
    for (const std::string& e : errors_) {
      if (!message.empty()) message += '\n';
      message += e;
    }
    if (moreErrors_ > 0) {
      message += "\n" + fileName_ + ": " + std::to_string(moreErrors_) + " more errors not shown";
    }
    throw ConfigError(message);
  }
  return config;
}

void ConfigParser::readMap(const Slot& slot, const std::vector<Field>& fields,
                           const std::vector<std::string_view>& planned) {
  std::vector<std::string_view> names;
  names.reserve(fields.size());
  for (const Field& field : fields) names.push_back(field.name);
  if (slot.node.IsNull()) return;
  if (!slot.node.IsMap()) {
    error(slot.mark, slot.path,
          "expected a map with the keys " + joinNames(names, " and ") + "; got " +
              describeNode(slot.node));
    return;
  }
  std::vector<std::pair<std::string, YAML::Mark>> seen;
  for (const auto& entry : slot.node) {
    const YAML::Node& key = entry.first;
    const YAML::Node& value = entry.second;
    if (!key.IsScalar()) {
      error(key.Mark(), slot.path, "a key must be a name; got " + describeNode(key));
      continue;
    }
    const std::string& name = key.Scalar();
    std::string path = joinPath(slot.path, name);
    auto first =
        std::find_if(seen.begin(), seen.end(), [&name](const auto& s) { return s.first == name; });
    if (first != seen.end()) {
      error(key.Mark(), path,
            "duplicate key (first set at line " + std::to_string(first->second.line + 1) +
                ", column " + std::to_string(first->second.column + 1) + ")");
      continue;
    }
    seen.emplace_back(name, key.Mark());

    auto field = std::find_if(fields.begin(), fields.end(),
                              [&name](const Field& f) { return f.name == name; });
    if (field != fields.end()) {
      // A key with nothing after it has no position of its own worth showing: point at the key.
      field->read(Slot{value, value.IsNull() ? key.Mark() : value.Mark(), path});
      continue;
    }
    std::string problem = "unknown key";
    if (std::find(planned.begin(), planned.end(), name) != planned.end()) {
      problem += ": the feature is not available in this build yet";
    } else if (auto near = suggest(name, names)) {
      problem += "; did you mean ";
      problem += *near;
      problem += "?";
    } else if (names.size() == 1) {
      problem += "; the only key here is ";
      problem += names.front();
    } else {
      problem += "; the keys here are " + joinNames(names, " and ");
    }
    error(key.Mark(), path, problem);
  }
}

std::optional<std::string> ConfigParser::scalar(const Slot& slot, std::string_view expected) {
  if (slot.node.IsScalar()) return slot.node.Scalar();
  error(slot.mark, slot.path,
        "expected " + std::string(expected) + "; got " + describeNode(slot.node));
  return std::nullopt;
}

bool ConfigParser::readBool(const Slot& slot, bool& out) {
  auto text = scalar(slot, "true or false");
  if (!text) return false;
  // Plain scalars only, as the Collector's YAML decoder does: "true" in quotes is a string, and
  // the YAML 1.1 spellings (yes, on) mean different things to different tools.
  if (!isPlainOr(slot.node, "tag:yaml.org,2002:bool")) {
    error(slot.mark, slot.path,
          quoted(*text) + " is a string, not a boolean; write true or false without quotes");
    return false;
  }
  if (*text == "true" || *text == "True" || *text == "TRUE") {
    out = true;
    return true;
  }
  if (*text == "false" || *text == "False" || *text == "FALSE") {
    out = false;
    return true;
  }
  error(slot.mark, slot.path, quoted(*text) + " is not true or false");
  return false;
}

void ConfigParser::readPath(const Slot& slot, std::string& out, std::string_view what) {
  auto text = scalar(slot, what);
  if (!text) return;
  if (text->empty()) {
    error(slot.mark, slot.path, "expected " + std::string(what) + "; got \"\"");
  } else if (text->find('\0') != std::string::npos) {
    error(slot.mark, slot.path,
          quoted(*text) + " contains a NUL byte; expected " + std::string(what));
  } else {
    out = std::move(*text);
  }
}

void ConfigParser::readString(const Slot& slot, std::string& out) {
  auto text = scalar(slot, "a string");
  if (!text) return;
  if (text->find('\0') != std::string::npos) {
    error(slot.mark, slot.path, "contains a NUL byte");
    return;
  }
  out = std::move(*text);
}

void ConfigParser::readRowCount(const Slot& slot, uint32_t& out, uint32_t min, uint32_t max) {
  const std::string expected =
      "a whole number from " + std::to_string(min) + " to " + std::to_string(max);
  auto text = scalar(slot, expected);
  if (!text) return;
  if (!isPlainOr(slot.node, "tag:yaml.org,2002:int")) {
    error(slot.mark, slot.path,
          quoted(*text) + " is a string, not a number; write " + expected + " without quotes");
    return;
  }
  bool valid = !text->empty() && text->size() <= 10;
  uint64_t value = 0;
  for (char c : *text) {
    valid = valid && c >= '0' && c <= '9';
    if (valid) value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  if (!valid || value < min || value > max) {
    error(slot.mark, slot.path, quoted(*text) + " is not " + expected);
    return;
  }
  out = static_cast<uint32_t>(value);
}

void ConfigParser::readEndpoint(const Slot& slot, Endpoint& out) {
  auto text = scalar(slot, "an endpoint such as 127.0.0.1:4318");
  if (!text) return;
  auto endpoint = parseEndpoint(*text);
  if (!endpoint) {
    error(slot.mark, slot.path, endpoint.status().message());
    return;
  }
  out = std::move(endpoint.value());
  endpointMarks_[slot.path] = slot.mark;
}

void ConfigParser::readDuration(const Slot& slot, std::chrono::nanoseconds& out,
                                std::chrono::nanoseconds min,
                                std::optional<std::chrono::nanoseconds> max, bool wholeSeconds) {
  auto text = scalar(slot, "a duration such as 72h");
  if (!text) return;
  auto value = parseDuration(*text);
  if (!value) {
    error(slot.mark, slot.path, value.status().message());
  } else if (*value < min) {
    error(slot.mark, slot.path,
          quoted(*text) + " is shorter than the minimum " + formatDuration(min));
  } else if (max && *value > *max) {
    error(slot.mark, slot.path,
          quoted(*text) + " is longer than the maximum " + formatDuration(*max));
  } else if (wholeSeconds && value->count() % 1'000'000'000 != 0) {
    error(slot.mark, slot.path, quoted(*text) + " is not a whole number of seconds");
  } else {
    out = *value;
  }
}

void ConfigParser::readByteSize(const Slot& slot, uint64_t& out, uint64_t min) {
  auto text = scalar(slot, "a size such as 64Mi");
  if (!text) return;
  auto value = parseByteSize(*text);
  if (!value) {
    error(slot.mark, slot.path, value.status().message());
  } else if (*value < min) {
    error(slot.mark, slot.path,
          quoted(*text) + " is smaller than the minimum " + formatByteSize(min));
  } else {
    out = *value;
  }
}

void ConfigParser::readSinks(const Slot& slot, std::vector<std::string>& out) {
  std::vector<std::string_view> names{kClickhouseSink};
  for (const ExporterKind* kind : kinds_.exporters) names.push_back(kind->name);
  const std::string expectedSink = joinNames(names, " or ");
  if (!slot.node.IsSequence()) {
    error(slot.mark, slot.path,
          "expected a list of sinks such as [clickhouse]; got " + describeNode(slot.node));
    return;
  }
  std::vector<std::string> sinks;
  bool valid = true;
  size_t index = 0;
  for (const auto& item : slot.node) {
    std::string path = slot.path + "[" + std::to_string(index++) + "]";
    YAML::Mark mark = item.IsNull() ? slot.mark : item.Mark();
    if (!item.IsScalar()) {
      error(mark, path, "expected a sink (" + expectedSink + "); got " + describeNode(item));
      valid = false;
      continue;
    }
    const std::string& sink = item.Scalar();
    if (std::find(names.begin(), names.end(), sink) == names.end()) {
      error(mark, path, notAmong(sink, "a sink", names));
      valid = false;
      continue;
    }
    if (std::find(sinks.begin(), sinks.end(), sink) != sinks.end()) {
      error(mark, path, sink + " is listed twice");
      valid = false;
      continue;
    }
    sinks.push_back(sink);
  }
  if (valid) out = std::move(sinks);
}

void ConfigParser::readUrl(const Slot& slot, std::string& out, bool optional) {
  const std::string expected = "a URL such as https://host or http://127.0.0.1:8080";
  auto text = scalar(slot, expected);
  if (!text) return;
  if (text->empty() && optional) {
    out.clear();
    return;
  }
  std::string_view url = *text;
  std::string_view rest;
  if (url.starts_with("https://")) {
    rest = url.substr(8);
  } else if (url.starts_with("http://")) {
    rest = url.substr(7);
  } else {
    error(slot.mark, slot.path, quoted(*text) + " is not " + expected + " (http or https)");
    return;
  }
  const std::string_view authority = rest.substr(0, rest.find('/'));
  if (authority.empty()) {
    error(slot.mark, slot.path, quoted(*text) + " has no host");
    return;
  }
  for (char c : url) {
    if (c == '?' || c == '#' || c == '@' || static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      error(slot.mark, slot.path,
            quoted(*text) +
                " may not hold user info, a query, a fragment, spaces or control "
                "characters");
      return;
    }
  }
  while (url.ends_with('/')) url.remove_suffix(1);
  out = std::string(url);
}

void ConfigParser::readQueue(const Slot& slot, QueueConfig& out) {
  auto readChoice = [this](const Slot& s, std::initializer_list<std::string_view> choices,
                           auto set) {
    auto text = scalar(s, "one of " + joinNames(std::vector<std::string_view>(choices), " or "));
    if (!text) return;
    size_t i = 0;
    for (std::string_view c : choices) {
      if (*text == c) {
        set(i);
        return;
      }
      ++i;
    }
    error(s.mark, s.path,
          quoted(*text) + " is not one of " +
              joinNames(std::vector<std::string_view>(choices), " or "));
  };
  readMap(slot, {{"maxSize", [&](const Slot& s) { readByteSize(s, out.maxSize, 64 * kMiB); }},
                 {"fsync",
                  [&](const Slot& s) {
                    readChoice(s, {"always", "never"}, [&](size_t i) {
                      out.fsync = i == 0 ? QueueConfig::Fsync::kAlways : QueueConfig::Fsync::kNever;
                    });
                  }},
                 {"onFull", [&](const Slot& s) {
                    readChoice(s, {"backpressure", "dropOldest"}, [&](size_t i) {
                      out.onFull = i == 0 ? QueueConfig::OnFull::kBackpressure
                                          : QueueConfig::OnFull::kDropOldest;
                    });
                  }}});
}

void ConfigParser::readRoot(const Slot& slot, Config& config) {
  std::vector<Field> sections{
      {"clickstack", [&](const Slot& s) { readClickstack(s, config.clickstack); }},
      {"otelConfig", [&](const Slot& s) { readOtelConfig(s, config.otelConfig); }}};
  // Each receiver reads its own top-level section.
  for (auto& [name, section] : config.receivers.entries()) {
    sections.push_back({name, ownSection(*section)});
  }
  readMap(slot, sections);
}

void ConfigParser::readClickstack(const Slot& slot, ClickstackConfig& out) {
  readMap(
      slot,
      {{"enabled", [&](const Slot& s) { readBool(s, out.enabled); }},
       {"dataDir", [&](const Slot& s) { readPath(s, out.dataDir); }},
       {"hyperdx",
        [&](const Slot& s) {
          HyperdxConfig& h = out.hyperdx;
          auto readEnabled = [&](bool& flag) {
            return [&](const Slot& e) {
              readMap(e, {{"enabled", [&](const Slot& b) { readBool(b, flag); }}});
            };
          };
          readMap(
              s,
              {{"seedUser",
                [&](const Slot& u) {
                  SeedUserConfig& seed = h.seedUser;
                  readMap(u, {{"email", [&](const Slot& v) { readString(v, seed.email); }},
                              {"password", [&](const Slot& v) { readString(v, seed.password); }},
                              {"existingSecret",
                               [&](const Slot& v) { readString(v, seed.existingSecret); }},
                              {"secretKey", [&](const Slot& v) { readString(v, seed.secretKey); }},
                              {"teamName", [&](const Slot& v) { readString(v, seed.teamName); }}});
                  if (!seed.password.empty() && !seed.existingSecret.empty()) {
                    error(u.mark, u.path, "set password or existingSecret, not both");
                  }
                  if (!seed.existingSecret.empty() && seed.secretKey.empty()) {
                    error(u.mark, u.path + ".secretKey",
                          "existingSecret is set but secretKey is empty");
                  }
                  if (seed.email.empty() || seed.email.find('@') == std::string::npos) {
                    error(u.mark, u.path + ".email",
                          quoted(seed.email) + " is not an e-mail address");
                  }
                }},
               {"ingress",
                [&](const Slot& i) {
                  readMap(i, {{"enabled", [&](const Slot& b) { readBool(b, h.ingress.enabled); }},
                              {"host", [&](const Slot& v) { readString(v, h.ingress.host); }}});
                }},
               {"exposure",
                [&](const Slot& x) {
                  readMap(x, {{"tailscale", readEnabled(h.exposure.tailscale)},
                              {"cloudflareTunnel", readEnabled(h.exposure.cloudflareTunnel)}});
                }},
               {"listen", [&](const Slot& l) { readEndpoint(l, h.listen); }},
               {"query", [&](const Slot& q) { readQuery(q, h.query); }},
               {"tls", [&](const Slot& t) {
                  readMap(t, {{"certFile", [&](const Slot& v) { readString(v, h.tls.certFile); }},
                              {"keyFile", [&](const Slot& v) { readString(v, h.tls.keyFile); }}});
                  if (h.tls.certFile.empty() != h.tls.keyFile.empty()) {
                    error(t.mark, t.path, "set both certFile and keyFile, or neither");
                  }
                }}});
        }},
       {"secretsDir", [&](const Slot& s) { readPath(s, out.secretsDir); }},
       {"clickhouse", [&](const Slot& s) {
          readMap(s,
                  {{"persistence", [&](const Slot& p) { readPersistence(p, out.persistence); }}});
        }}});
}

void ConfigParser::readQuery(const Slot& slot, QueryConfig& out) {
  readMap(
      slot,
      {{"maxExecutionTime",
        [&](const Slot& s) {
          readDuration(s, out.maxExecutionTime, std::chrono::seconds(1), std::chrono::hours(1),
                       /*wholeSeconds=*/true);
        }},
       {"maxMemoryUsage", [&](const Slot& s) { readByteSize(s, out.maxMemoryUsage, 16 * kMiB); }},
       {"maxConcurrent", [&](const Slot& s) { readRowCount(s, out.maxConcurrent, 1, 256); }}});
}

void ConfigParser::readOtelConfig(const Slot& slot, OtelConfig& out) {
  auto readHttp = [&](const Slot& s) {
    OtlpHttpConfig& http = out.receivers.otlp.http;
    readMap(s, {{"endpoint", [&](const Slot& e) { readEndpoint(e, http.endpoint); }},
                {"maxRequestBodySize",
                 [&](const Slot& e) { readByteSize(e, http.maxRequestBodySize, kMinByteLimit); }}});
  };
  auto readReceivers = [&](const Slot& s) {
    auto readGrpc = [&](const Slot& g) {
      OtlpGrpcConfig& grpc = out.receivers.otlp.grpc;
      readMap(
          g,
          {{"endpoint", [&](const Slot& e) { readEndpoint(e, grpc.endpoint); }},
           {"maxRecvMsgSizeMiB",
            [&](const Slot& e) { readRowCount(e, grpc.maxRecvMsgSizeMiB, 0, kMaxGrpcMessageMiB); }},
           {"maxConcurrentStreams", [&](const Slot& e) {
              readRowCount(e, grpc.maxConcurrentStreams, 1, kMaxGrpcStreams);
            }}});
    };
    auto readLimits = [&](const Slot& l) {
      OtlpLimitsConfig& limits = out.receivers.otlp.limits;
      readMap(
          l,
          {{"maxResourcesPerRequest",
            [&](const Slot& e) { readRowCount(e, limits.maxResourcesPerRequest, 1, 10'000'000); }},
           {"maxRecordsPerRequest",
            [&](const Slot& e) { readRowCount(e, limits.maxRecordsPerRequest, 1, 100'000'000); }},
           {"maxAttributesPerRecord",
            [&](const Slot& e) { readRowCount(e, limits.maxAttributesPerRecord, 1, 1'000'000); }},
           {"maxAttributeKeyLength",
            [&](const Slot& e) { readByteSize(e, limits.maxAttributeKeyLength, 1); }},
           {"maxAttributeValueLength",
            [&](const Slot& e) { readByteSize(e, limits.maxAttributeValueLength, 1); }},
           {"maxValueDepth", [&](const Slot& e) { readRowCount(e, limits.maxValueDepth, 1, 256); }},
           {"maxFutureSkew", [&](const Slot& e) {
              readDuration(e, limits.maxFutureSkew, std::chrono::nanoseconds(0), kMaxFutureSkew,
                           /*wholeSeconds=*/false);
            }}});
    };
    readMap(s, {{"otlp", [&](const Slot& o) {
                   OtlpAuthConfig& auth = out.receivers.otlp.auth;
                   readMap(o, {{"grpc", readGrpc},
                               {"http", readHttp},
                               {"limits", readLimits},
                               {"auth", [&](const Slot& a) {
                                  readMap(
                                      a,
                                      {{"existingSecret",
                                        [&](const Slot& v) { readString(v, auth.existingSecret); }},
                                       {"secretKey",
                                        [&](const Slot& v) { readString(v, auth.secretKey); }}});
                                  if (auth.existingSecret.empty() != auth.secretKey.empty()) {
                                    error(a.mark, a.path,
                                          "set both existingSecret and secretKey, or neither");
                                  }
                                }}});
                 }}});
  };
  readMap(
      slot,
      {{"receivers", readReceivers},
       {"admin",
        [&](const Slot& s) {
          readMap(s, {{"endpoint", [&](const Slot& e) { readEndpoint(e, out.admin.endpoint); }}});
        }},
       {"routing", [&](const Slot& s) { readRouting(s, out.routing); }},
       {"exporters", [&](const Slot& s) { readExporters(s, out.exporters); }},
       {"processors", [&](const Slot& s) { readProcessors(s, out.processors); }}});
}

void ConfigParser::readRouting(const Slot& slot, RoutingConfig& out) {
  readMap(slot, {{"traces", [&](const Slot& s) { readSinks(s, out.traces); }},
                 {"metrics", [&](const Slot& s) { readSinks(s, out.metrics); }},
                 {"k8sMetrics", [&](const Slot& s) { readSinks(s, out.k8sMetrics); }},
                 {"k8sEvents", [&](const Slot& s) { readSinks(s, out.k8sEvents); }},
                 {"prometheusScrape", [&](const Slot& s) { readSinks(s, out.prometheusScrape); }},
                 {"logs", [&](const Slot& s) { readSinks(s, out.logs); }}});
}

void ConfigParser::readExporters(const Slot& slot, ExportersConfig& out) {
  auto readClickhouse = [&](const Slot& s) {
    ClickhouseExporterConfig& clickhouse = out.clickhouse;
    std::vector<Field> fields = clickhouseRemoteFields(s, clickhouse);
    readMap(s, {{"enabled", [&](const Slot& e) { readBool(e, clickhouse.enabled); }},
                {fields[0]},
                {fields[1]},
                {fields[2]},
                {fields[3]},
                {fields[4]},
                {fields[5]},
                {fields[6]},
                {fields[7]},
                {fields[8]},
                {fields[9]},
                {"ttl",
                 [&](const Slot& e) {
                   // 0 first: readDuration's minimum applies to every other value.
                   auto text = scalar(e, "a duration such as 72h");
                   if (!text) return;
                   if (auto value = parseDuration(*text); value && value->count() == 0) {
                     clickhouse.ttl = std::chrono::nanoseconds(0);
                     return;
                   }
                   readDuration(e, clickhouse.ttl, kMinTtl, std::nullopt, /*wholeSeconds=*/true);
                 }},
                {"queue", [&](const Slot& e) { readQueue(e, clickhouse.queue); }}});
  };
  std::vector<Field> sections{{kClickhouseSink, readClickhouse}};
  // Each vendor sink reads its own section (its folder's ExporterSection::read).
  for (auto& [name, section] : out.vendors.entries()) {
    sections.push_back({name, ownSection(*section)});
  }
  readMap(slot, sections);
}

void ConfigParser::readProcessors(const Slot& slot, ProcessorsConfig& out) {
  auto readBatch = [&](const Slot& s) {
    BatchProcessorConfig& batch = out.batch;
    readMap(s, {{"sendBatchSize",
                 [&](const Slot& e) {
                   readRowCount(e, batch.sendBatchSize, kMinBatchRows, kMaxBatchRows);
                 }},
                {"timeout",
                 [&](const Slot& e) {
                   readDuration(e, batch.timeout, kMinBatchTimeout, kMaxBatchTimeout,
                                /*wholeSeconds=*/false);
                 }},
                {"sendBatchMaxBytes",
                 [&](const Slot& e) { readByteSize(e, batch.sendBatchMaxBytes, kMinByteLimit); }}});
  };
  auto readMemoryLimiter = [&](const Slot& s) {
    MemoryLimiterConfig& m = out.memoryLimiter;
    std::optional<Slot> spikeSlot;
    readMap(s, {{"limitMiB", [&](const Slot& e) { readRowCount(e, m.limitMiB, 0, kMaxMemoryMiB); }},
                {"spikeLimitMiB",
                 [&](const Slot& e) {
                   readRowCount(e, m.spikeLimitMiB, 0, kMaxMemoryMiB);
                   spikeSlot = e;
                 }},
                {"engineLimitMiB", [&](const Slot& e) {
                   readRowCount(e, m.engineLimitMiB, 0, kMaxMemoryMiB);
                   if (m.engineLimitMiB != 0 && m.engineLimitMiB < kMinEngineMiB) {
                     error(e.mark, e.path,
                           std::to_string(m.engineLimitMiB) + " is below the minimum " +
                               std::to_string(kMinEngineMiB) +
                               " (0 leaves the engine its default, 90% of RAM)");
                   }
                 }}});
    if (spikeSlot && m.limitMiB != 0 && m.spikeLimitMiB >= m.limitMiB) {
      error(spikeSlot->mark, spikeSlot->path,
            std::to_string(m.spikeLimitMiB) + " is not below limitMiB (" +
                std::to_string(m.limitMiB) + "); the soft limit is limitMiB - spikeLimitMiB");
    }
  };
  readMap(slot, {{"batch", readBatch},
                 {"memoryLimiter", readMemoryLimiter},
                 {"redaction", [&](const Slot& s) { readRedaction(s, out.redaction); }}});
}

bool ConfigParser::readRedactionAction(const Slot& slot, RedactionAction& out, bool allowRemove) {
  const std::string expected = allowRemove ? "mask, hash or remove" : "mask or hash";
  auto text = scalar(slot, expected);
  if (!text) return false;
  if (*text == "mask") {
    out = RedactionAction::kMask;
  } else if (*text == "hash") {
    out = RedactionAction::kHash;
  } else if (*text == "remove" && allowRemove) {
    out = RedactionAction::kRemove;
  } else {
    error(slot.mark, slot.path,
          quoted(*text) + " is not an action; expected " + expected +
              (*text == "remove"
                   ? " (only blockedKeys can remove: the other rules replace part of a value)"
                   : ""));
    return false;
  }
  return true;
}

void ConfigParser::readStringList(const Slot& slot, std::vector<std::string>& out,
                                  std::string_view what) {
  if (!slot.node.IsSequence()) {
    error(slot.mark, slot.path,
          "expected a list of " + std::string(what) + " such as [\"a.b\"]; got " +
              describeNode(slot.node));
    return;
  }
  std::vector<std::string> items;
  bool valid = true;
  size_t index = 0;
  for (const auto& item : slot.node) {
    std::string path = slot.path + "[" + std::to_string(index++) + "]";
    YAML::Mark mark = item.IsNull() ? slot.mark : item.Mark();
    if (!item.IsScalar() || item.Scalar().empty()) {
      error(mark, path, "expected " + std::string(what) + "; got " + describeNode(item));
      valid = false;
      continue;
    }
    items.push_back(item.Scalar());
  }
  if (valid) out = std::move(items);
}

void ConfigParser::readRedaction(const Slot& slot, RedactionProcessorConfig& out) {
  const std::vector<std::string_view>& ruleNames = redactionRuleNames();
  auto readRules = [&](const Slot& s) {
    if (s.node.IsNull()) return;
    if (!s.node.IsMap()) {
      error(s.mark, s.path,
            "expected a map of rule names such as {emails: false}; got " + describeNode(s.node));
      return;
    }
    std::vector<Field> fields;
    fields.reserve(ruleNames.size());
    for (std::string_view name : ruleNames) {
      fields.push_back({name, [&, name](const Slot& r) {
                          RedactionRuleConfig rule;
                          if (r.node.IsScalar()) {
                            if (!readBool(r, rule.enabled)) return;
                          } else {
                            readMap(r,
                                    {{"enabled", [&](const Slot& e) { readBool(e, rule.enabled); }},
                                     {"action", [&](const Slot& e) {
                                        RedactionAction a;
                                        if (readRedactionAction(e, a, name == "blockedKeys"))
                                          rule.action = a;
                                      }}});
                          }
                          out.rules[std::string(name)] = rule;
                        }});
    }
    readMap(s, fields);
  };
  readMap(
      slot,
      {{"enabled", [&](const Slot& s) { readBool(s, out.enabled); }},
       {"action", [&](const Slot& s) { readRedactionAction(s, out.action, false); }},
       {"rules", readRules},
       {"allowListMode", [&](const Slot& s) { readBool(s, out.allowListMode); }},
       {"allowedKeys", [&](const Slot& s) { readStringList(s, out.allowedKeys, "key patterns"); }},
       {"ignoredKeys", [&](const Slot& s) { readStringList(s, out.ignoredKeys, "key patterns"); }},
       {"allowedValues", [&](const Slot& s) { readStringList(s, out.allowedValues, "values"); }},
       {"blockedKeys", [&](const Slot& s) { readStringList(s, out.blockedKeys, "key patterns"); }},
       {"urlKeys", [&](const Slot& s) { readStringList(s, out.urlKeys, "key patterns"); }},
       {"fileNameKeys",
        [&](const Slot& s) { readStringList(s, out.fileNameKeys, "key patterns"); }},
       {"safeQueryKeys",
        [&](const Slot& s) { readStringList(s, out.safeQueryKeys, "query keys"); }},
       {"urls",
        [&](const Slot& s) {
          readMap(s, {{"hashHosts", [&](const Slot& e) { readBool(e, out.hashUrlHosts); }}});
        }},
       {"hmacKey",
        [&](const Slot& s) {
          auto text = scalar(s, "a secret of at least 16 bytes");
          if (!text) return;
          if (text->size() < 16) {
            // Never echo the secret itself.
            error(s.mark, s.path,
                  "the key is " + std::to_string(text->size()) +
                      " bytes; a key of at least 16 bytes is needed");
            return;
          }
          out.hmacKey = std::move(*text);
        }},
       {"hmacKeyFile", [&](const Slot& s) {
          std::string path;
          readPath(s, path);
          if (path.empty()) return;
          out.hmacKeyFile = std::move(path);
        }}});
  if (!out.hmacKey.empty() && !out.hmacKeyFile.empty()) {
    error(slot.mark, slot.path, "set hmacKey or hmacKeyFile, not both");
  }
  if (out.allowListMode && out.allowedKeys.empty()) {
    error(slot.mark, slot.path + ".allowedKeys",
          "allowListMode is true but allowedKeys is empty: every attribute would be removed");
  }
}

// The enabled sinks' queues together within clickstack.clickhouse.persistence.logSize, so that
// the queues cannot fill the disk the store's own budget assumes is left.
void ConfigParser::checkQueueBudget(const Config& config) {
  uint64_t total = 0;
  std::string parts;
  for (std::string_view sink : sinkNames(config)) {
    if (!sinkEnabled(config, sink)) continue;
    uint64_t size = sinkQueue(config, sink).maxSize;
    total += size;
    if (!parts.empty()) parts += " + ";
    parts += std::string(sink) + " " + formatByteSize(size);
  }
  uint64_t budget = config.clickstack.persistence.logSize;
  if (total <= budget) return;
  error(logSizeMark_, "clickstack.clickhouse.persistence.logSize",
        formatByteSize(budget) + " cannot hold the enabled sinks' queues (" + parts + " = " +
            formatByteSize(total) +
            "): raise logSize or lower otelConfig.exporters.<sink>.queue.maxSize");
}

void ConfigParser::checkListeners(const Config& config) {
  struct Listener {
    std::string_view path;
    const Endpoint* endpoint;
  };
  std::vector<Listener> listeners;
  // The UI listens only with clickstack on.
  if (config.clickstack.enabled) {
    listeners.push_back({"clickstack.hyperdx.listen", &config.clickstack.hyperdx.listen});
  }
  listeners.push_back(
      {"otelConfig.receivers.otlp.grpc.endpoint", &config.otelConfig.receivers.otlp.grpc.endpoint});
  listeners.push_back(
      {"otelConfig.receivers.otlp.http.endpoint", &config.otelConfig.receivers.otlp.http.endpoint});
  listeners.push_back({"otelConfig.admin.endpoint", &config.otelConfig.admin.endpoint});

  auto markOf = [this](std::string_view path) {
    auto mark = endpointMarks_.find(path);
    return mark == endpointMarks_.end() ? YAML::Mark() : mark->second;
  };
  // Nothing listens beyond loopback unless a setting says so, and never without authentication.
  const HyperdxConfig& hyperdx = config.clickstack.hyperdx;
  if (config.clickstack.enabled && !isLoopbackHost(hyperdx.listen.host) &&
      !hyperdx.ingress.enabled && !hyperdx.tls.enabled()) {
    error(markOf("clickstack.hyperdx.listen"), "clickstack.hyperdx.listen",
          quoted(hyperdx.listen.toString()) +
              " is beyond loopback; the UI listens there only with "
              "clickstack.hyperdx.ingress.enabled: true or clickstack.hyperdx.tls (for a tunnel, "
              "keep it on loopback)");
  }
  if (config.otelConfig.receivers.otlp.auth.existingSecret.empty()) {
    for (const Listener& l : listeners) {
      if (!l.path.starts_with("otelConfig.receivers.") || isLoopbackHost(l.endpoint->host))
        continue;
      error(markOf(l.path), l.path,
            quoted(l.endpoint->toString()) +
                " is beyond loopback and no ingestion key is configured: set "
                "otelConfig.receivers.otlp.auth.existingSecret and secretKey");
    }
  }

  for (size_t i = 0; i < listeners.size(); ++i) {
    for (size_t j = i + 1; j < listeners.size(); ++j) {
      if (!endpointsCollide(*listeners[i].endpoint, *listeners[j].endpoint)) continue;
      // Blame the one written later in the file; defaults never collide with each other.
      auto markI = endpointMarks_.find(listeners[i].path);
      auto markJ = endpointMarks_.find(listeners[j].path);
      bool blameJ = markJ != endpointMarks_.end() &&
                    (markI == endpointMarks_.end() || markJ->second.pos > markI->second.pos);
      const Listener& blamed = blameJ ? listeners[j] : listeners[i];
      const Listener& other = blameJ ? listeners[i] : listeners[j];
      auto mark = blameJ ? markJ : markI;
      error(mark == endpointMarks_.end() ? YAML::Mark() : mark->second, blamed.path,
            quoted(blamed.endpoint->toString()) + " takes the port of " + std::string(other.path) +
                " (" + other.endpoint->toString() + "); each listener needs its own port");
    }
  }
}

// ClickHouse names a database (and a cluster, here) with identifiers; we keep to the plain ones
// so that they never need quoting in the statements we write. A cluster may also hold '-'.
bool isPlainName(std::string_view name, bool allowDash) {
  if (name.empty() || name.size() > 128 || (name[0] >= '0' && name[0] <= '9')) return false;
  for (char c : name) {
    const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    c == '_' || (allowDash && c == '-');
    if (!ok) return false;
  }
  return true;
}

// The problem with a remote ClickHouse endpoint, or empty: http(s)://host[:port][/], no
// credentials (they come from existingSecret), no path, query or fragment.
std::string clickhouseUrlProblem(std::string_view url) {
  const std::string_view example = " such as http://clickhouse:8123 or https://ch.example.com:8443";
  std::string_view rest = url;
  if (rest.starts_with("https://")) {
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else {
    return "is not an http(s) URL" + std::string(example);
  }
  if (rest.ends_with("/")) rest.remove_suffix(1);
  if (rest.find('@') != std::string_view::npos) {
    return "holds credentials; give the user in username and the password through "
           "existingSecret and secretKey";
  }
  if (rest.find_first_of("/?#") != std::string_view::npos) {
    return "has a path, query or fragment; give only the scheme, host and port" +
           std::string(example);
  }
  std::string_view host = rest;
  std::string_view port;
  if (rest.starts_with("[")) {
    const size_t close = rest.find(']');
    if (close == std::string_view::npos) return "has an unterminated [IPv6] host";
    host = rest.substr(0, close + 1);
    if (close + 1 < rest.size()) {
      if (rest[close + 1] != ':') return "has text after its [IPv6] host";
      port = rest.substr(close + 2);
    }
  } else if (const size_t colon = rest.rfind(':'); colon != std::string_view::npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  }
  if (host.empty() || host == "[]") return "has no host" + std::string(example);
  for (char c : host) {
    if (c <= ' ' || c == 0x7f) return "has a space or control character in its host";
  }
  if (!port.empty() || rest.ends_with(":")) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value == 0 ||
        value > 65535) {
      return "has a port that is not a number from 1 to 65535";
    }
  }
  return {};
}

std::vector<ConfigParser::Field> ConfigParser::clickhouseRemoteFields(const Slot& section,
                                                                      ClickhouseExporterConfig& c) {
  clickhouseSection_ = section;
  return {
      {"endpoint",
       [this, &c](const Slot& s) {
         auto text = scalar(s, "an http(s) URL");
         if (!text) return;
         if (text->empty()) {
           c.endpoint.clear();
           return;
         }
         if (std::string problem = clickhouseUrlProblem(*text); !problem.empty()) {
           error(s.mark, s.path, quoted(*text) + " " + problem);
           return;
         }
         c.endpoint = std::move(*text);
         if (c.endpoint.ends_with("/")) c.endpoint.pop_back();
       }},
      {"database",
       [this, &c](const Slot& s) {
         auto text = scalar(s, "a database name");
         if (!text) return;
         if (!isPlainName(*text, false)) {
           error(s.mark, s.path,
                 quoted(*text) +
                     " is not a database name (letters, digits and _, not starting "
                     "with a digit)");
           return;
         }
         // The engine's own databases, and the one of the schema views (store/schema.h).
         for (std::string_view reserved :
              {"system", "information_schema", "INFORMATION_SCHEMA", "stackhouse"}) {
           if (*text == reserved) {
             error(s.mark, s.path,
                   quoted(*text) + " is reserved; name the telemetry database otherwise");
             return;
           }
         }
         c.database = std::move(*text);
       }},
      {"username",
       [this, &c](const Slot& s) {
         auto text = scalar(s, "a user name");
         if (!text) return;
         bool printable = !text->empty();
         for (char ch : *text) printable = printable && ch >= ' ' && ch != 0x7f;
         if (!printable) {
           error(s.mark, s.path,
                 quoted(*text) + " is not a user name (empty or a control character)");
           return;
         }
         c.username = std::move(*text);
       }},
      {"existingSecret", [this, &c](const Slot& s) { readString(s, c.existingSecret); }},
      {"secretKey", [this, &c](const Slot& s) { readString(s, c.secretKey); }},
      {"clusterName",
       [this, &c](const Slot& s) {
         auto text = scalar(s, "a cluster name");
         if (!text) return;
         if (!text->empty() && !isPlainName(*text, true)) {
           error(s.mark, s.path,
                 quoted(*text) + " is not a cluster name (letters, digits, _ and -)");
           return;
         }
         c.clusterName = std::move(*text);
       }},
      {"createSchema", [this, &c](const Slot& s) { readBool(s, c.createSchema); }},
      {"tls",
       [this, &c](const Slot& s) {
         readMap(s, {{"caFile", [&](const Slot& f) { readString(f, c.tlsCaFile); }},
                     {"insecureSkipVerify",
                      [&](const Slot& f) { readBool(f, c.tlsInsecureSkipVerify); }}});
       }},
      {"compression",
       [this, &c](const Slot& s) {
         auto text = scalar(s, "none, gzip or zstd");
         if (!text) return;
         for (HttpCompression h :
              {HttpCompression::kNone, HttpCompression::kGzip, HttpCompression::kZstd}) {
           if (*text == httpCompressionName(h)) {
             c.compression = h;
             return;
           }
         }
         error(s.mark, s.path, quoted(*text) + " is not none, gzip or zstd");
       }},
      {"timeout",
       [this, &c](const Slot& s) {
         readDuration(s, c.timeout, std::chrono::seconds(1), std::chrono::minutes(10),
                      /*wholeSeconds=*/false);
       }},
  };
}

void ConfigParser::checkClickhouseRemote(const Slot& slot, const ClickhouseExporterConfig& c) {
  if (c.existingSecret.empty() != c.secretKey.empty()) {
    error(slot.mark, slot.path, "set both existingSecret and secretKey, or neither");
  }
  if (c.endpoint.empty()) {
    // Only a remote ClickHouse has a cluster or a TLS connection.
    if (!c.clusterName.empty()) {
      error(slot.mark, slot.path + ".clusterName",
            "needs a remote endpoint (http(s)://host:8123); the embedded store is one server");
    }
    if (!c.tlsCaFile.empty() || c.tlsInsecureSkipVerify) {
      error(slot.mark, slot.path + ".tls", "needs an https endpoint");
    }
    return;
  }
  if (!c.endpoint.starts_with("https://") && (!c.tlsCaFile.empty() || c.tlsInsecureSkipVerify)) {
    error(slot.mark, slot.path + ".tls",
          "is set but the endpoint " + quoted(c.endpoint, std::string::npos) + " is not https");
  }
  if (!c.tlsCaFile.empty() && c.tlsInsecureSkipVerify) {
    error(slot.mark, slot.path + ".tls", "set caFile or insecureSkipVerify, not both");
  }
}

void ConfigParser::readPersistence(const Slot& slot, PersistenceConfig& out) {
  readMap(slot, {{"dataSize", [&](const Slot& s) { readByteSize(s, out.dataSize, 64 * kMiB); }},
                 {"logSize", [&](const Slot& s) {
                    logSizeMark_ = s.mark;
                    readByteSize(s, out.logSize, 64 * kMiB);
                  }}});
}

}  // namespace

Config parseConfig(std::string_view yaml, std::string_view fileName, const SectionKinds& kinds) {
  return ConfigParser(fileName, kinds).parse(yaml);
}

Config loadConfig(const std::string& path, const SectionKinds& kinds) {
  struct Closer {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  std::unique_ptr<std::FILE, Closer> file(std::fopen(path.c_str(), "rb"));
  if (!file) throw ConfigError(path + ": cannot open: " + std::strerror(errno));
  std::string text;
  char buffer[64 * 1024];
  while (true) {
    size_t n = std::fread(buffer, 1, sizeof buffer, file.get());
    text.append(buffer, n);
    if (text.size() > kMaxFileBytes) {
      throw ConfigError(path + ": larger than 1 MiB; this is not a configuration file");
    }
    if (n < sizeof buffer) break;
  }
  if (std::ferror(file.get())) throw ConfigError(path + ": cannot read: " + std::strerror(errno));
  return parseConfig(text, path, kinds);
}

}  // namespace stackhouse::config
