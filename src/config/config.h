// stackhouse's configuration: one YAML file shaped like the Helm values of the deployments it
// replaces (the whole key set is in src/config/README.md), parsed once at
// start-up into the plain structs below.
//
// Only the keys of features that exist are accepted; any other key, including a key of the
// reference whose feature is not built yet, is an "unknown key" error. Every error carries the
// file, line and column, the key path, the value and what was expected:
//
//   stackhouse.yaml:14:10: otelConfig.exporters.clickhouse.ttl: "3 days" is not a duration such
//   as 72h (there is no day unit: write 72h for 3 days)
//
// Parsing collects every error of a file before it throws, so an operator fixes them in one go.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "config/endpoint.h"
#include "config/section.h"
#include "config/units.h"

namespace stackhouse::config {

// Thrown by parseConfig and loadConfig; what() is the whole message, one error per line.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The sinks an operator can route to (otelConfig.routing.<source> values) are named by their
// section under otelConfig.exporters: clickhouse, and the vendor sinks whose kinds the parse was
// given (section.h; a stackhouse binary's list is sinks::exporterKinds()).
inline constexpr std::string_view kClickhouseSink = "clickhouse";

// Bounds on every user query (SQL API, `stackhouse sql`, and the UI's SQL mode and tiles).
struct QueryConfig {
  std::chrono::nanoseconds maxExecutionTime = std::chrono::seconds(30);  // whole seconds, 1s..1h
  uint64_t maxMemoryUsage = 1 * kGiB;                                    // per query, >= 16Mi
  uint32_t maxConcurrent = 4;  // queries at once, 1..256; more: 429

  bool operator==(const QueryConfig&) const = default;
};

// The first admin, created when the user table is empty. No password anywhere: a random one is
// generated and printed once to stderr. Either way it must be changed at first login.
struct SeedUserConfig {
  std::string email = "admin@yourcompany.com";
  std::string password;        // plain; or the two keys below
  std::string existingSecret;  // <secretsDir>/<existingSecret>/<secretKey> holds the password
  std::string secretKey = "HYPERDX_ADMIN_PASSWORD";
  std::string teamName = "Your Team";

  bool operator==(const SeedUserConfig&) const = default;
};

struct IngressConfig {
  bool enabled = false;  // the UI may listen beyond loopback; cookies are Secure
  std::string host;      // the Host the API answers for (besides the listen host)

  bool operator==(const IngressConfig&) const = default;
};

// Private access through a tunnel that runs beside stackhouse: the UI stays on loopback.
struct ExposureConfig {
  bool tailscale = false;
  bool cloudflareTunnel = false;

  bool operator==(const ExposureConfig&) const = default;
};

// TLS on the UI listener: PEM files of the certificate chain and its unencrypted key, both or
// neither. With them the UI may listen beyond loopback and its cookies are Secure and __Host-.
struct UiTlsConfig {
  std::string certFile;
  std::string keyFile;

  bool enabled() const { return !certFile.empty(); }
  bool operator==(const UiTlsConfig&) const = default;
};

struct HyperdxConfig {
  SeedUserConfig seedUser;
  IngressConfig ingress;
  ExposureConfig exposure;
  // The UI and its query API.
  Endpoint listen{"127.0.0.1", 8080};
  QueryConfig query;
  UiTlsConfig tls;

  bool operator==(const HyperdxConfig&) const = default;
};

// clickstack.clickhouse.persistence: disk budgets.
struct PersistenceConfig {
  // Telemetry on disk in the embedded store; past it the oldest day partitions are dropped
  // (store/disk_budget.h). At least 64Mi.
  uint64_t dataSize = 50 * kGiB;
  // stackhouse's own spools on disk: the sinks' durable queues together (the queue.maxSize of
  // every enabled sink) must fit in it, checked at start. At least 64Mi.
  uint64_t logSize = 10 * kGiB;

  bool operator==(const PersistenceConfig&) const = default;
};

struct ClickstackConfig {
  // false: the collector role (app/collector_command.h): no embedded store, no UI, remote sinks.
  bool enabled = true;
  PersistenceConfig persistence;  // clickstack.clickhouse.persistence
  // The embedded store and spools.
  std::string dataDir = "./data";
  // Where existingSecret names are resolved (a mounted Kubernetes secret per subdirectory).
  std::string secretsDir = "/var/run/secrets/stackhouse";
  HyperdxConfig hyperdx;

  bool operator==(const ClickstackConfig&) const = default;
};

struct OtlpHttpConfig {
  Endpoint endpoint{"127.0.0.1", 4318};
  // Limit on a request body after decompression.
  uint64_t maxRequestBodySize = 64 * kMiB;

  bool operator==(const OtlpHttpConfig&) const = default;
};

struct OtlpGrpcConfig {
  Endpoint endpoint{"127.0.0.1", 4317};
  // Largest request message after decompression, in MiB; 0: http.maxRequestBodySize.
  uint32_t maxRecvMsgSizeMiB = 0;  // 0..2047
  // Calls (HTTP/2 streams) one connection may have open at once.
  uint32_t maxConcurrentStreams = 100;  // 1..1000000

  bool operator==(const OtlpGrpcConfig&) const = default;
};

// Limits on what one OTLP request may hold, for both transports. Past the per-request ones the
// request is refused (HTTP 400, gRPC INVALID_ARGUMENT); past the per-record ones attributes are
// dropped or cut and the client gets a partial-success warning.
struct OtlpLimitsConfig {
  uint32_t maxResourcesPerRequest = 10000;       // ResourceLogs/Spans/Metrics, 1..10000000
  uint32_t maxRecordsPerRequest = 100000;        // log records, spans or data points, 1..100000000
  uint32_t maxAttributesPerRecord = 128;         // entries per attribute map, 1..1000000
  uint64_t maxAttributeKeyLength = kKiB;         // bytes, at least 1
  uint64_t maxAttributeValueLength = 64 * kKiB;  // bytes of the stored text, at least 1
  uint32_t maxValueDepth = 32;                   // AnyValue nesting, 1..256
  // Latest record time accepted, ahead of the receive time; later records are refused on their
  // own (partial success). 0..744h (31 days: the store sizes its per-insert partition limit by it).
  std::chrono::nanoseconds maxFutureSkew = std::chrono::hours(1);

  bool operator==(const OtlpLimitsConfig&) const = default;
};

// The ingestion key: <secretsDir>/<existingSecret>/<secretKey>. Required when a receiver listens
// beyond loopback; when set, every OTLP request must carry it.
struct OtlpAuthConfig {
  std::string existingSecret;
  std::string secretKey;

  bool operator==(const OtlpAuthConfig&) const = default;
};

struct OtlpReceiverConfig {
  OtlpGrpcConfig grpc;
  OtlpHttpConfig http;
  OtlpLimitsConfig limits;
  OtlpAuthConfig auth;

  bool operator==(const OtlpReceiverConfig&) const = default;
};

struct ReceiversConfig {
  OtlpReceiverConfig otlp;

  bool operator==(const ReceiversConfig&) const = default;
};

struct AdminConfig {
  // /metrics, /healthz, /readyz.
  Endpoint endpoint{"127.0.0.1", 8888};

  bool operator==(const AdminConfig&) const = default;
};

// Source -> sinks. A batch goes to each sink that is listed for its source AND enabled (see
// sinkEnabled), so the defaults list every sink and enabling one is enough to feed it.
// No sink appears twice in one list. The defaults below are those of a parse that knows no
// vendor sink; defaultConfig(kinds) lists every sink for traces, metrics, k8sMetrics and
// k8sEvents, as the deployment docs do.
struct RoutingConfig {
  std::vector<std::string> traces{std::string(kClickhouseSink)};
  std::vector<std::string> metrics{std::string(kClickhouseSink)};
  std::vector<std::string> k8sMetrics{std::string(kClickhouseSink)};
  std::vector<std::string> k8sEvents{std::string(kClickhouseSink)};
  std::vector<std::string> prometheusScrape{std::string(kClickhouseSink)};
  std::vector<std::string> logs{std::string(kClickhouseSink)};

  bool operator==(const RoutingConfig&) const = default;
};

// Compression of the rows sent to a remote ClickHouse (Content-Encoding).
enum class HttpCompression : unsigned char { kNone, kGzip, kZstd };
std::string_view httpCompressionName(HttpCompression compression);

struct ClickhouseExporterConfig {
  // The embedded store with clickstack.enabled, else a remote ClickHouse when `endpoint` is set.
  bool enabled = true;
  // Retention: rows older than this are dropped. At least 1h, whole seconds.
  std::chrono::nanoseconds ttl = std::chrono::hours(72);
  QueueConfig queue;

  bool operator==(const ClickhouseExporterConfig&) const = default;

  // A remote ClickHouse over its HTTP interface (src/sinks/clickhouse/README.md); all unused
  // while `endpoint` is empty (the embedded store).
  std::string endpoint;                // "" or http(s)://host[:port]
  std::string database = "otel";       // an identifier
  std::string username = "default";    // X-ClickHouse-User
  std::string existingSecret;          // the password: <secretsDir>/<existingSecret>/<secretKey>
  std::string secretKey;               // set both or neither (no password)
  std::string clusterName;             // ON CLUSTER, ReplicatedMergeTree + Distributed
  bool createSchema = true;            // create the database and tables at start
  std::string tlsCaFile;               // tls.caFile: PEM CAs trusted instead of the system's
  bool tlsInsecureSkipVerify = false;  // tls.insecureSkipVerify
  HttpCompression compression = HttpCompression::kZstd;
  std::chrono::nanoseconds timeout = std::chrono::seconds(30);  // one insert, 1s..10m
  bool remote() const { return !endpoint.empty(); }
};

struct ExportersConfig {
  ClickhouseExporterConfig clickhouse;
  // The vendor sinks' sections (otelConfig.exporters.<name>), each owned by its sink folder.
  ExporterSections vendors;

  bool operator==(const ExportersConfig&) const = default;
};

// Shaped like the Collector's batch processor: a batch is sent when it reaches sendBatchSize
// rows or sendBatchMaxBytes, or when timeout has passed since its first row.
struct BatchProcessorConfig {
  uint32_t sendBatchSize = 50000;                                     // rows, 1..1000000
  std::chrono::nanoseconds timeout = std::chrono::milliseconds(200);  // 1ms..60s
  uint64_t sendBatchMaxBytes = 256 * kMiB;                            // at least 1Ki

  bool operator==(const BatchProcessorConfig&) const = default;
};

// otelConfig.processors.redaction: the telemetry controls (docs/telemetry-controls.md). Rule
// names and key patterns are checked here; their meaning lives in src/processors/redaction.
enum class RedactionAction : unsigned char { kMask, kHash, kRemove };
std::string_view redactionActionName(RedactionAction action);

struct RedactionRuleConfig {
  bool enabled = true;
  std::optional<RedactionAction> action;  // unset: the processor's `action`

  bool operator==(const RedactionRuleConfig&) const = default;
};

struct RedactionProcessorConfig {
  bool enabled = true;
  RedactionAction action = RedactionAction::kMask;   // mask or hash: default of every rule
  std::map<std::string, RedactionRuleConfig> rules;  // overrides by rule name
  bool allowListMode = false;
  std::vector<std::string> allowedKeys;    // allow-list mode: the only attribute keys kept
  std::vector<std::string> ignoredKeys;    // never redacted
  std::vector<std::string> allowedValues;  // exact values never replaced
  std::vector<std::string> blockedKeys;    // added to the default patterns
  std::vector<std::string> urlKeys;        // added to the defaults
  std::vector<std::string> fileNameKeys;   // added to the defaults
  std::vector<std::string> safeQueryKeys;  // query keys whose values are kept
  // urls.hashHosts: the host of every URL found is hashed too (customer-named hosts).
  bool hashUrlHosts = false;
  std::string hmacKey;      // at least 16 bytes; or:
  std::string hmacKeyFile;  // a file holding the key; neither: a key kept in dataDir

  bool operator==(const RedactionProcessorConfig&) const = default;
};

// The rule names accepted under otelConfig.processors.redaction.rules.
const std::vector<std::string_view>& redactionRuleNames();

// Receivers refuse new requests (HTTP 503 + Retry-After, gRPC UNAVAILABLE) while the bytes they
// and the pipeline hold pass limitMiB - spikeLimitMiB.
struct MemoryLimiterConfig {
  uint32_t limitMiB = 0;       // 0: from the machine at start, 80% of RAM and at most 2048
  uint32_t spikeLimitMiB = 0;  // 0: 20% of the limit; otherwise below limitMiB
  // The embedded engine's own memory (inserts, merges, caches), capped separately: past it the
  // engine fails an insert (retried, then refused with 503/UNAVAILABLE) rather than grow.
  // 0: the engine's default (90% of RAM); otherwise at least 128.
  uint32_t engineLimitMiB = 0;

  bool operator==(const MemoryLimiterConfig&) const = default;
};

struct ProcessorsConfig {
  BatchProcessorConfig batch;
  MemoryLimiterConfig memoryLimiter;
  RedactionProcessorConfig redaction;

  bool operator==(const ProcessorsConfig&) const = default;
};

struct OtelConfig {
  ReceiversConfig receivers;
  AdminConfig admin;
  RoutingConfig routing;
  ExportersConfig exporters;
  ProcessorsConfig processors;

  bool operator==(const OtelConfig&) const = default;
};

struct Config {
  ClickstackConfig clickstack;
  OtelConfig otelConfig;
  // The receivers' own top-level sections (prometheusScrape), in their kinds' order; each read
  // and printed by its receiver's code (section.h).
  ReceiverSections receivers;

  bool operator==(const Config&) const = default;
};

// Every default; the same as parsing an empty file with the same kinds.
Config defaultConfig(const SectionKinds& kinds = {});

// Parses a whole file's text. fileName only labels messages. `kinds.exporters` are the vendor
// sinks whose sections (otelConfig.exporters.<name>) and names (otelConfig.routing) are known,
// `kinds.receivers` the receivers whose top-level sections are; any other name is an error. Empty
// text (or only comments) gives the defaults; a missing key keeps its default. Throws ConfigError
// listing every error found.
Config parseConfig(std::string_view yaml, std::string_view fileName,
                   const SectionKinds& kinds = {});

// Reads and parses the file at path; ConfigError also when it cannot be read.
Config loadConfig(const std::string& path, const SectionKinds& kinds = {});

// Every sink the configuration knows: clickhouse, then the vendor sinks in their kinds' order.
std::vector<std::string_view> sinkNames(const Config& config);
// Whether the router should hand batches to this sink at all: its exporter is enabled, and for
// clickhouse, clickstack.enabled too (or a remote endpoint). False for a name it does not know.
bool sinkEnabled(const Config& config, std::string_view sink);
// Whether any sink is enabled (start-up refuses a configuration with none).
bool anySinkEnabled(const Config& config);
// Why a configuration with no sink is refused, after "nothing to send to: ", for a process with
// an embedded store (`run`) or without one (`collector`, or clickstack.enabled: false).
std::string nothingToSendTo(const Config& config, bool embeddedStore);

// The durable queue settings of a known sink (otelConfig.exporters.<sink>.queue).
const QueueConfig& sinkQueue(const Config& config, std::string_view sink);
// The deadline of one send of a known sink (otelConfig.exporters.<sink>.timeout).
std::chrono::nanoseconds sinkTimeout(const Config& config, std::string_view sink);

// The sinks that receive the data of `source` ("traces", "metrics", "k8sMetrics", "k8sEvents",
// "prometheusScrape", "logs"): those listed in otelConfig.routing.<source> that are also enabled,
// in the listed order. Empty for an unknown source.
std::vector<std::string> routedSinks(const Config& config, std::string_view source);

// The effective configuration as YAML (every key, defaults included) for --print-config;
// parseConfig reads it back as an equal Config.
std::string describeConfig(const Config& config);

}  // namespace stackhouse::config
