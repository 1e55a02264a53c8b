// A sink's own configuration section: what a sink folder (src/sinks/<name>/) implements so that
// its keys under otelConfig.exporters.<name> are read, checked, compared and printed by the code
// that sends its data, while the parser keeps one way of reporting errors for the whole file.
//
//   struct AcmeConfig final : config::ExporterSectionOf<AcmeConfig> {
//     std::string endpoint = "https://intake.acme.example";
//     void read(config::SectionReader& in) override {
//       in.map({enabledKey(),
//               {"endpoint", [this](config::SectionReader& v) { v.url(endpoint, false); }},
//               timeoutKey(), queueKey()});
//     }
//     void describe(config::SectionWriter& out) const override { ... }
//     bool operator==(const AcmeConfig&) const = default;
//   };
//   const config::ExporterKind kAcme = config::exporterKind<AcmeConfig>("acme");
//
// The parser is handed the kinds it knows (parseConfig's `exporters`, the sink registry's list
// in a stackhouse binary), so the config library never names a vendor.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/units.h"

namespace stackhouse::config {

// A sink's durable queue (otelConfig.exporters.<sink>.queue; see src/pipeline/README.md).
struct QueueConfig {
  enum class Fsync : unsigned char { kAlways, kNever };
  enum class OnFull : unsigned char { kBackpressure, kDropOldest };
  uint64_t maxSize = 2 * kGiB;  // bytes on disk, at least 64Mi
  Fsync fsync = Fsync::kAlways;
  OnFull onFull = OnFull::kBackpressure;

  bool operator==(const QueueConfig&) const = default;
};

// The default queue of a sink outside this machine: onFull dropOldest.
inline QueueConfig vendorQueue() {
  QueueConfig q;
  q.onFull = QueueConfig::OnFull::kDropOldest;
  return q;
}

// A vendor sink's credential: <secretsDir>/<existingSecret>/<secretKey> (a mounted secret), or
// `file`. When the sink is enabled exactly one of the two is set.
struct CredentialConfig {
  std::string existingSecret;
  std::string secretKey;
  std::string file;

  bool operator==(const CredentialConfig&) const = default;
};

class SectionReader;

// One key of a map and how its value is read.
struct SectionKey {
  std::string_view name;
  std::function<void(SectionReader&)> read;
};

// One value of the file, with where it sits. Every method reports a problem as
// `file:line:column: key.path: problem` in the parse's list of errors and leaves `out` as it
// was; parsing goes on, and the whole list is thrown at the end.
class SectionReader {
 public:
  virtual ~SectionReader() = default;

  // Its key path, e.g. otelConfig.exporters.datadog.site.
  virtual const std::string& path() const = 0;

  // A map whose keys are `keys`, each read by its reader; unknown, misspelt and duplicate keys
  // are errors. No value (a key with nothing after it) is an empty map.
  virtual void map(const std::vector<SectionKey>& keys) = 0;
  // The scalar's text; nullopt (and an error naming `expected`) for a map, a list or no value.
  virtual std::optional<std::string> scalar(std::string_view expected) = 0;
  virtual void boolean(bool& out) = 0;
  // Any string without a NUL byte, empty included.
  virtual void string(std::string& out) = 0;
  // An http:// or https:// URL without user info, query or fragment, trailing slashes cut; ""
  // is accepted when `optional`.
  virtual void url(std::string& out, bool optional) = 0;
  virtual void duration(std::chrono::nanoseconds& out, std::chrono::nanoseconds min,
                        std::optional<std::chrono::nanoseconds> max) = 0;
  virtual void byteSize(uint64_t& out, uint64_t min) = 0;
  virtual void queue(QueueConfig& out) = 0;
  // One of `choices`, compared exactly; `what` names them in messages ("a Datadog site": `"x" is
  // not a Datadog site; expected a or b; did you mean a?`).
  virtual void oneOf(std::string& out, const std::vector<std::string_view>& choices,
                     std::string_view what) = 0;

  // This value is wrong: `problem` reported at its place. `subkey` (e.g. "secretKey") names a
  // key inside it that the problem is about.
  virtual void error(std::string_view problem, std::string_view subkey = {}) = 0;

  // Adds the keys existingSecret, secretKey and `fileKey` (e.g. apiKeyFile) to a section's map.
  static void addCredentialKeys(std::vector<SectionKey>& keys, CredentialConfig& out,
                                std::string_view fileKey);
  // After the section's map: existingSecret needs secretKey, not both sources, and an enabled
  // sink needs one.
  void checkCredential(bool enabled, const CredentialConfig& c, std::string_view fileKey);
};

// Prints a section as YAML for describeConfig (`--print-config`), which parseConfig reads back
// as an equal configuration.
class SectionWriter {
 public:
  SectionWriter(std::string& out, int depth) : out_(out), depth_(depth) {}

  void boolean(std::string_view key, bool value);
  void string(std::string_view key, std::string_view value);  // quoted, escaped
  void duration(std::string_view key, std::chrono::nanoseconds value);
  void byteSize(std::string_view key, uint64_t value);
  void queue(const QueueConfig& q);
  // The credential's keys; the secret itself is never in the configuration, only where it is.
  void credential(const CredentialConfig& c, std::string_view fileKey);
  // "key:" and a writer for the map under it.
  SectionWriter nested(std::string_view key);

 private:
  void line(std::string_view key, std::string_view text);

  std::string& out_;
  int depth_;
};

// What every vendor sink's section has; the rest is the sink's own. Owned by its sink folder,
// held by Config (ExportersConfig::vendors), made by its ExporterKind. A section derives from
// ExporterSectionOf<itself> below, which copies and compares it.
class ExporterSection {
 public:
  virtual ~ExporterSection() = default;

  bool enabled = false;
  // The deadline of one send (pipeline::SinkWorkerOptions::sendTimeout).
  std::chrono::nanoseconds timeout = std::chrono::seconds(30);
  // Its durable queue; a vendor's outage drops the oldest data rather than stopping ingest.
  QueueConfig queue = vendorQueue();

  // Reads the section's map, every key of it (enabled, timeout and queue included), and checks
  // what concerns several keys.
  virtual void read(SectionReader& in) = 0;
  // Every key, defaults included.
  virtual void describe(SectionWriter& out) const = 0;
  virtual std::unique_ptr<ExporterSection> clone() const = 0;
  // Same kind and every key equal.
  virtual bool equals(const ExporterSection& other) const = 0;

 protected:
  // The keys every section has, for read()'s map, in the order the section lists them: enabled,
  // timeout (1s to 5m) and queue.
  SectionKey enabledKey();
  SectionKey timeoutKey();
  SectionKey queueKey();

 public:
  // The common keys only, for the defaulted comparisons of the sections (which must reach it):
  // compare two sections through equals(), which knows their type.
  bool operator==(const ExporterSection&) const = default;
};

// clone and equals for a section `Self` that declares
// `bool operator==(const Self&) const = default;`.
template <typename Self>
class ExporterSectionOf : public ExporterSection {
 public:
  std::unique_ptr<ExporterSection> clone() const override {
    return std::make_unique<Self>(static_cast<const Self&>(*this));
  }
  bool equals(const ExporterSection& other) const override {
    const auto* o = dynamic_cast<const Self*>(&other);
    return o != nullptr && static_cast<const Self&>(*this) == *o;
  }

  bool operator==(const ExporterSectionOf&) const = default;
};

// A sink whose section the parser knows: its name in otelConfig.exporters and .routing, and
// its section with every default.
struct ExporterKind {
  std::string_view name;
  std::unique_ptr<ExporterSection> (*makeDefault)();
};

// The kind of section `T`, named `name`.
template <typename T>
constexpr ExporterKind exporterKind(std::string_view name) {
  return {name, [] { return std::unique_ptr<ExporterSection>(std::make_unique<T>()); }};
}

using ExporterKinds = std::span<const ExporterKind* const>;

// The sections of the vendor sinks a parse knew, in the kinds' order; copied and compared by
// value.
class ExporterSections {
 public:
  ExporterSections() = default;
  ExporterSections(const ExporterSections& other);
  ExporterSections& operator=(const ExporterSections& other);
  ExporterSections(ExporterSections&&) noexcept = default;
  ExporterSections& operator=(ExporterSections&&) noexcept = default;
  bool operator==(const ExporterSections& other) const;

  // One section per kind, each with its defaults.
  static ExporterSections defaults(ExporterKinds kinds);

  struct Entry {
    std::string name;
    std::unique_ptr<ExporterSection> section;
  };
  const std::vector<Entry>& entries() const { return entries_; }
  std::vector<Entry>& entries() { return entries_; }
  // The section of `name`; null when the parse did not know it.
  const ExporterSection* find(std::string_view name) const;
  ExporterSection* find(std::string_view name);
  // The section of `name` as its own type; null when absent or of another type.
  template <typename T>
  const T* get(std::string_view name) const {
    return dynamic_cast<const T*>(find(name));
  }
  template <typename T>
  T* get(std::string_view name) {
    return dynamic_cast<T*>(find(name));
  }

 private:
  std::vector<Entry> entries_;
};

}  // namespace stackhouse::config
