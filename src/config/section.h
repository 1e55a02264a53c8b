// A sink's or a receiver's own configuration section: what a sink folder (src/sinks/<name>/,
// its keys under otelConfig.exporters.<name>) or a receiver folder (src/receivers/<name>/, a
// top-level key such as prometheusScrape) implements so that its keys are read, checked,
// compared and printed by the code that uses them, while the parser keeps one way of reporting
// errors for the whole file.
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
// A receiver's section derives from config::SectionOf<Self> and has a ReceiverKind
// (receiverKind<T>("acmeWatch")). The parser is handed the kinds it knows (parseConfig's
// SectionKinds: in a stackhouse binary, the sink registry's and the receiver registry's), so the
// config library never names a vendor or a receiver.
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

  // Neither source set.
  bool empty() const { return existingSecret.empty() && file.empty(); }

  bool operator==(const CredentialConfig&) const = default;
};

class SectionReader;

// One key of a map and how its value is read.
struct SectionKey {
  std::string_view name;
  std::function<void(SectionReader&)> read;
  // Read after the map's other keys, wherever it stands in the file: for a value checked
  // against its siblings (a timeout against the interval set beside it or below it).
  bool afterOthers = false;
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

  // A path to a file: any non-empty string without a NUL byte.
  virtual void filePath(std::string& out) = 0;
  // A whole number in [min, max].
  virtual void count(uint32_t& out, uint32_t min, uint32_t max) = 0;
  // A list of strings (`what` names them in messages: "targets such as host:9100").
  virtual void stringList(std::vector<std::string>& out, std::string_view what) = 0;
  // A list, each item read by `item` with its own place and path (`key[i]`); no value is an
  // empty list; anything else is an error naming `expected` ("a list of jobs (- jobName: ...)").
  virtual void list(std::string_view expected, const std::function<void(SectionReader&)>& item) = 0;
  // A map whose keys are the user's (labels, query parameters): each entry read by `entry` with
  // its name, at the key's place, with the path `key.name`. No value is an empty map; anything
  // else is an error naming `expected` ("a map of labels such as {env: prod}").
  virtual void entries(
      std::string_view expected,
      const std::function<void(const std::string& name, SectionReader&)>& entry) = 0;
  // Whether the value is a list (for keys that take one value or a list of them).
  virtual bool isList() const = 0;
  // The value's line in the file, from 1 (for messages such as "another job (line 3)").
  virtual int line() const = 0;

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
  void number(std::string_view key, uint64_t value);
  // A list of strings on one line, each quoted.
  void strings(std::string_view key, const std::vector<std::string>& values);
  // "key:" and a writer for the map under it.
  SectionWriter nested(std::string_view key);
  // "key:" and a writer for the list of maps under it, each begun by item(); "key: []" when
  // `size` is 0.
  SectionWriter list(std::string_view key, size_t size);
  // On a list's writer: a writer for its next item, whose first key is written after "- ".
  SectionWriter item();

 private:
  void line(std::string_view key, std::string_view text);

  std::string& out_;
  int depth_;
  bool itemStart_ = false;  // the next line begins a list item: "- " before it
};

// A section of the file owned by the code that uses it: a vendor sink's under
// otelConfig.exporters.<name>, or a receiver's top-level section (prometheusScrape). Made by its
// kind with every default, read and printed by its own code, copied and compared by value. A
// section `Self` derives from SectionOf<Self, Base> below, which copies and compares it.
class Section {
 public:
  virtual ~Section() = default;

  // Reads the section's map, every key of it, and checks what concerns several keys.
  virtual void read(SectionReader& in) = 0;
  // Every key, defaults included.
  virtual void describe(SectionWriter& out) const = 0;
  virtual std::unique_ptr<Section> clone() const = 0;
  // Same type and every key equal.
  virtual bool equals(const Section& other) const = 0;

  // For the defaulted comparisons of the sections (there is nothing to compare here): compare
  // two sections through equals(), which knows their type.
  bool operator==(const Section&) const = default;
};

// What every vendor sink's section has; the rest is the sink's own. Owned by its sink folder,
// held by Config (ExportersConfig::vendors), made by its ExporterKind.
class ExporterSection : public Section {
 public:
  bool enabled = false;
  // The deadline of one send (pipeline::SinkWorkerOptions::sendTimeout).
  std::chrono::nanoseconds timeout = std::chrono::seconds(30);
  // Its durable queue; a vendor's outage drops the oldest data rather than stopping ingest.
  QueueConfig queue = vendorQueue();

 protected:
  // The keys every section has, for read()'s map, in the order the section lists them: enabled,
  // timeout (1s to 5m) and queue.
  SectionKey enabledKey();
  SectionKey timeoutKey();
  SectionKey queueKey();

 public:
  bool operator==(const ExporterSection&) const = default;
};

// clone and equals for a section `Self` deriving from `Base` (Section or ExporterSection) that
// declares `bool operator==(const Self&) const = default;`.
template <typename Self, typename Base = Section>
class SectionOf : public Base {
 public:
  std::unique_ptr<Section> clone() const override {
    return std::make_unique<Self>(static_cast<const Self&>(*this));
  }
  bool equals(const Section& other) const override {
    const auto* o = dynamic_cast<const Self*>(&other);
    return o != nullptr && static_cast<const Self&>(*this) == *o;
  }

  bool operator==(const SectionOf&) const = default;
};

template <typename Self>
using ExporterSectionOf = SectionOf<Self, ExporterSection>;

// A section the parser knows: its name (otelConfig.exporters.<name> and otelConfig.routing for
// a sink, the top-level key for a receiver) and its section with every default.
template <typename Base>
struct SectionKind {
  std::string_view name;
  std::unique_ptr<Base> (*makeDefault)();
};
using ExporterKind = SectionKind<ExporterSection>;
using ReceiverKind = SectionKind<Section>;

// The kind of sink section `T`, named `name`.
template <typename T>
constexpr ExporterKind exporterKind(std::string_view name) {
  return {name, [] { return std::unique_ptr<ExporterSection>(std::make_unique<T>()); }};
}
// The kind of receiver section `T`, the top-level key `name`.
template <typename T>
constexpr ReceiverKind receiverKind(std::string_view name) {
  return {name, [] { return std::unique_ptr<Section>(std::make_unique<T>()); }};
}

using ExporterKinds = std::span<const ExporterKind* const>;
using ReceiverKinds = std::span<const ReceiverKind* const>;

// The sections a parse knows besides the config library's own: a stackhouse binary's are its
// sink registry's and its receiver registry's.
struct SectionKinds {
  ExporterKinds exporters;
  ReceiverKinds receivers;
};

// The sections of the kinds a parse knew, in the kinds' order; copied and compared by value.
template <typename Base>
class Sections {
 public:
  Sections() = default;
  Sections(const Sections& other) { *this = other; }
  Sections& operator=(const Sections& other) {
    if (this == &other) return *this;
    std::vector<Entry> copy;
    copy.reserve(other.entries_.size());
    for (const Entry& e : other.entries_) {
      // clone() makes the same type as the section it copies: a Base.
      copy.push_back(
          {e.name, std::unique_ptr<Base>(static_cast<Base*>(e.section->clone().release()))});
    }
    entries_ = std::move(copy);
    return *this;
  }
  Sections(Sections&&) noexcept = default;
  Sections& operator=(Sections&&) noexcept = default;
  bool operator==(const Sections& other) const {
    if (entries_.size() != other.entries_.size()) return false;
    for (size_t i = 0; i < entries_.size(); ++i) {
      const Entry& a = entries_[i];
      const Entry& b = other.entries_[i];
      if (a.name != b.name || !a.section->equals(*b.section)) return false;
    }
    return true;
  }

  // One section per kind, each with its defaults.
  static Sections defaults(std::span<const SectionKind<Base>* const> kinds) {
    Sections out;
    out.entries_.reserve(kinds.size());
    for (const SectionKind<Base>* kind : kinds) {
      out.entries_.push_back({std::string(kind->name), kind->makeDefault()});
    }
    return out;
  }

  struct Entry {
    std::string name;
    std::unique_ptr<Base> section;
  };
  const std::vector<Entry>& entries() const { return entries_; }
  std::vector<Entry>& entries() { return entries_; }
  // The section of `name`; null when the parse did not know it.
  const Base* find(std::string_view name) const {
    for (const Entry& e : entries_) {
      if (e.name == name) return e.section.get();
    }
    return nullptr;
  }
  Base* find(std::string_view name) {
    return const_cast<Base*>(static_cast<const Sections&>(*this).find(name));
  }
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

using ExporterSections = Sections<ExporterSection>;
using ReceiverSections = Sections<Section>;

}  // namespace stackhouse::config
