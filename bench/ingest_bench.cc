// End-to-end ingest benchmark of `stackhouse run`, with the embedded store's raw insert rate of
// the same rows as the ceiling, in one run on one machine (see docs/benchmarks.md).
//
//   ingest_bench --server build/stackhouse [--seconds 15] [--clients 4] [--records 500]
//                [--overload-limit-mib 256] [--overload-engine-mib 512] [--overload-queue-mib 256]
//                [--overload-expect-continue 1] [--only overload|queue|logs] [--server-cpu N]
//                [--batch 50000] [--server-batch N]
//   ingest_bench --ceiling logs|spans --dir D [--seconds S] [--records R] [--batch N]
//                [--engine-counters 1] [--ceiling-drop-index idx_a,idx_b]
//                (the ceiling phase alone; with the engine's own counters of its inserts and
//                merges, and without the named skip indexes, to price them)
//   ingest_bench --load-port P [--load-grpc 1] [--load-spans 1] [--seconds S] [--clients N]
//   [--records R]
//                (load only, against a running server's OTLP/HTTP or OTLP/gRPC port, for profiling)
//
// Phases, each on a fresh data directory:
//   1. logs end to end: `clients` keep-alive connections POST realistic OTLP/protobuf logs
//      (10 attributes, ~200-byte bodies, `records` per request) for `seconds`; the rate is rows
//      acknowledged per second (acknowledged means committed, so queryable), checked against
//      count() at the end; plus the server's CPU seconds per million rows and its peak RSS;
//   2. the same for spans;
//   2a. logs and spans again with otelConfig.processors.redaction.enabled false: the cost of the
//      default redaction policy (on in every other phase) as a share of end-to-end throughput;
//   2b. logs and spans again over OTLP/gRPC: `clients` grpc::GenericStub clients (one connection
//      each) send the same payloads as raw protobuf Export calls, one call at a time each; the
//      rate is printed beside the HTTP one with the ratio gRPC/HTTP;
//   3. send-to-queryable latency at half the logs rate: each sampled request carries its own
//      service name and is polled through /api/v1/sql until its rows are visible;
//   4. the ceiling, in a child process: the same decoded rows inserted straight into the same
//      tables through the Arrow interface, in groups of the server's batch size; then again in
//      groups of the rows per insert the end-to-end phases made (from the server's /metrics);
//   5. overload (run before the ceiling): one server with a memory limit (--overload-limit-mib,
//      --overload-engine-mib) and a small queue (--overload-queue-mib, so that it is full within
//      seconds), logs from `clients` closed-loop clients (the unloaded rate, end to end), then ten
//      times that rate offered open-loop over many connections that do not back off when refused
//      (the rate acknowledged once the queue is full); the offered rate, the rate stored meanwhile,
//      the server's CPU, the peak RSS and the most bytes the memory limiter held (runOverload).
//      The overload clients send `Expect: 100-continue`, so a refused request costs its header
//      alone; without it (--overload-expect-continue 0) one 2-core machine cannot offer 10x.
//      `--only overload` runs this phase alone.
#include <fcntl.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "open_loop_client.h"
#include "otlp/decode.h"
#include "otlp_payloads.h"
#include "store/chdb_store.h"
#include "support/http_client.h"
#include "telemetry/log_batch.h"
#include "telemetry/span_batch.h"

using namespace stackhouse;
using Clock = std::chrono::steady_clock;

namespace {

struct Args {
  std::string server = "build/stackhouse";
  double seconds = 15;
  int clients = 4;
  int records = 500;
  int batchSize = 50000;
  int serverBatch = 0;  // the servers' sendBatchSize in the load phases; 0: their default
  std::string ceiling;  // internal: "logs" or "spans" runs the ceiling phase in this process
  std::string dir;
  bool oneBlock = false;
  std::string ceilingDropIndexes;  // the ceiling's table without these skip indexes (a,b,...)
  bool engineCounters = false;     // the ceiling prints the engine's counters to stderr
  int loadPort = 0;                // drive load against a running server's OTLP port, for profiling
  bool loadGrpc = false;           // with loadPort: the port is the OTLP/gRPC one
  bool loadSpans = false;          // with loadPort: send spans instead of logs
  uint32_t overloadLimitMiB = 256;   // phase 5: otelConfig.processors.memoryLimiter.limitMiB
  uint32_t overloadEngineMiB = 512;  // phase 5: memoryLimiter.engineLimitMiB
  uint64_t overloadQueueMiB = 256;   // phase 5: the store's queue.maxSize (small: full soon)
  double overloadFactor = 10;        // phase 5: the load offered, in multiples of the unloaded
  std::string only;                  // "overload": phase 5 alone; "queue", "logs": see main
  int serverCpu = -1;                // --server-cpu: the servers on this CPU, the clients elsewhere
  // Phase 5: overload clients send Expect: 100-continue, so a refused request costs its header
  // alone (lets one 2-core machine offer 10x; SDKs send the whole body).
  bool overloadExpectContinue = true;
};

double secondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

std::string tempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "stackhouse-bench-XXXXXX").string();
  return mkdtemp(tmpl.data());
}

// --server-cpu: the CPU every server child runs on (the benchmark itself runs on the others);
// -1: anywhere.
int serverCpu = -1;

void pinTo(const std::vector<int>& cpus) {
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int cpu : cpus) CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0) throw std::runtime_error("sched_setaffinity");
}

// A `stackhouse run` child on free ports.
class ServerProcess {
 public:
  // `otelConfigTail`: more keys under otelConfig (two-space indented), e.g. processors.
  ServerProcess(const std::string& binary, const std::string& dir,
                const std::string& otelConfigTail = "") {
    const std::string config = dir + "/config.yaml";
    std::ofstream(config) << "clickstack:\n  hyperdx: {listen: \"127.0.0.1:0\"}\n"
                             "otelConfig:\n  receivers: {otlp: {grpc: {endpoint: \"127.0.0.1:0\"}, "
                             "http: {endpoint: \"127.0.0.1:0\"}}}\n"
                             "  admin: {endpoint: \"127.0.0.1:0\"}\n"
                          << otelConfigTail;
    int out[2];
    if (pipe(out) != 0) throw std::runtime_error("pipe");
    pid_ = fork();
    if (pid_ == 0) {
      if (serverCpu >= 0) pinTo({serverCpu});
      dup2(out[1], 1);
      const int devnull = open("/dev/null", O_WRONLY);
      dup2(devnull, 2);
      close(out[0]);
      execl(binary.c_str(), binary.c_str(), "run", "--config", config.c_str(), "--data-dir",
            (dir + "/data").c_str(), nullptr);
      _exit(127);
    }
    close(out[1]);
    fd_ = out[0];
    std::string line;
    const auto start = Clock::now();
    while (secondsSince(start) < 120) {
      char c;
      if (read(fd_, &c, 1) != 1) break;
      if (c != '\n') {
        line += c;
        continue;
      }
      if (line.find("\"msg\":\"ready\"") != std::string::npos) {
        otlpPort_ = portOf(line, "\"otlp_http\":\"");
        grpcPort_ = portOf(line, "\"otlp_grpc\":\"");
        apiPort_ = portOf(line, "\"api\":\"");
        adminPort_ = portOf(line, "\"admin\":\"");
        break;
      }
      line.clear();
    }
    if (otlpPort_ == 0) throw std::runtime_error("the server did not become ready");
    // The API needs a key: the one `run` writes for the CLI into its data directory.
    std::ifstream keyFile(dir + "/data/cli-api-key");
    std::getline(keyFile, apiKey_);
    // Keep draining its logs so that it never blocks on a full pipe.
    drain_ = std::thread([fd = fd_] {
      char buf[4096];
      while (read(fd, buf, sizeof buf) > 0) {
      }
    });
  }
  ~ServerProcess() {
    kill(pid_, SIGTERM);
    int status;
    waitpid(pid_, &status, 0);
    drain_.join();
    close(fd_);
  }
  uint16_t otlpPort() const { return otlpPort_; }
  // POST /api/v1/sql with the CLI's key.
  testing::HttpReply sql(testing::HttpClient& api, const std::string& body) const {
    return api.request(
        "POST", "/api/v1/sql", body,
        {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + apiKey_}});
  }
  uint16_t grpcPort() const { return grpcPort_; }
  uint16_t apiPort() const { return apiPort_; }
  uint16_t adminPort() const { return adminPort_; }
  // User + system CPU seconds so far.
  double cpuSeconds() const {
    std::ifstream stat("/proc/" + std::to_string(pid_) + "/stat");
    std::string s((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    std::istringstream in(s.substr(s.rfind(')') + 2));
    std::string field;
    double utime = 0, stime = 0;
    for (int i = 3; i <= 15; ++i) {
      in >> field;
      if (i == 14) utime = std::stod(field);
      if (i == 15) stime = std::stod(field);
    }
    return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
  }
  double peakRssMiB() const { return statusMiB("VmHWM:"); }
  double rssMiB() const { return statusMiB("VmRSS:"); }
  uint64_t count(const std::string& table, const std::string& where = "1") {
    testing::HttpClient api(apiPort_);
    auto r = sql(api, "{\"query\":\"SELECT count() FROM otel." + table + " WHERE " + where + "\"}");
    const auto p = r.body.find("\"rows\":[[\"");
    return p == std::string::npos ? 0 : std::stoull(r.body.substr(p + 10));
  }

 private:
  double statusMiB(const std::string& key) const {
    std::ifstream status("/proc/" + std::to_string(pid_) + "/status");
    std::string line;
    while (std::getline(status, line)) {
      if (line.rfind(key, 0) == 0) return std::stod(line.substr(key.size())) / 1024.0;
    }
    return 0;
  }
  static uint16_t portOf(const std::string& line, const std::string& key) {
    const auto p = line.find(key);
    if (p == std::string::npos) return 0;
    const auto colon = line.find(':', p + key.size());
    return static_cast<uint16_t>(std::stoi(line.substr(colon + 1)));
  }
  pid_t pid_ = -1;
  std::string apiKey_;
  int fd_ = -1;
  uint16_t otlpPort_ = 0;
  uint16_t grpcPort_ = 0;
  uint16_t apiPort_ = 0;
  uint16_t adminPort_ = 0;
  std::thread drain_;
};

struct LoadResult {
  double rowsPerSecond = 0;   // rows acknowledged in the phase / time until all of them are stored
  double ackedPerSecond = 0;  // rows acknowledged / the phase's duration
  uint64_t rows = 0;
  uint64_t stored = 0;
  uint64_t refused = 0;
  double cpuPerMillion = 0;
  double peakRssMiB = 0;
  double meanInsertRows = 0;  // rows per insert the server made (warm-up included)
};

void removeDir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

// The request ledger answers a request whose bytes it has already committed without storing it
// again, so a load of 32 payloads sent over and over would measure that shortcut. Each request
// gets a unique tail instead: an unknown field (number 15, varint), which decoders skip.
std::atomic<uint64_t> requestSeq{0};
std::string uniqueTail() {
  std::string tail(1, '\x78');  // field 15, wire type 0
  for (uint64_t v = ++requestSeq;; v >>= 7) {
    if (v < 0x80) {
      tail += static_cast<char>(v);
      break;
    }
    tail += static_cast<char>((v & 0x7f) | 0x80);
  }
  return tail;
}

// One OTLP/gRPC client: its own connection (a local subchannel pool, so that clients do not share
// one), unary Export calls of raw protobuf bytes, one at a time.
class GrpcExportClient {
 public:
  GrpcExportClient(uint16_t port, bool spans)
      : method_(spans ? "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
                      : "/opentelemetry.proto.collector.logs.v1.LogsService/Export") {
    grpc::ChannelArguments channelArgs;
    channelArgs.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    channelArgs.SetMaxSendMessageSize(-1);
    stub_ = std::make_unique<grpc::GenericStub>(grpc::CreateCustomChannel(
        "127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials(), channelArgs));
  }
  // `payload` (shared, not copied) followed by a unique tail.
  grpc::Status call(const grpc::Slice& payload) {
    const grpc::Slice slices[2] = {payload, grpc::Slice(uniqueTail())};
    const grpc::ByteBuffer request(slices, 2);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    grpc::ByteBuffer response;
    std::promise<grpc::Status> done;
    stub_->UnaryCall(&ctx, method_, grpc::StubOptions(), &request, &response,
                     [&done](grpc::Status s) { done.set_value(std::move(s)); });
    return done.get_future().get();
  }

 private:
  std::string method_;
  std::unique_ptr<grpc::GenericStub> stub_;
};

// `redactionOff`: the server runs with otelConfig.processors.redaction.enabled false, to price
// the default redaction policy (on in every other phase).
// The value of an unlabelled sample `name` in a Prometheus text exposition, or 0 when absent.
double metricValue(const std::string& exposition, std::string_view name) {
  const std::string key = "\n" + std::string(name) + " ";
  const auto p = exposition.find(key);
  return p == std::string::npos ? 0.0 : std::stod(exposition.substr(p + key.size()));
}

// Rows per insert over the server's life so far, from its /metrics
// (stackhouse_sink_send_rows: the rows of each range the clickhouse sink's worker inserted).
double meanInsertRows(uint16_t adminPort) {
  testing::HttpClient admin(adminPort);
  const std::string body = admin.get("/metrics").body;
  const double count = metricValue(body, "stackhouse_sink_send_rows_count{sink=\"clickhouse\"}");
  return count > 0 ? metricValue(body, "stackhouse_sink_send_rows_sum{sink=\"clickhouse\"}") / count
                   : 0.0;
}

// The requests closed-loop clients send: 32 distinct payloads of `records` logs or spans, cycled.
struct ClientLoad {
  bool spans = false;
  std::vector<std::string> payloads;
  std::vector<grpc::Slice> grpcPayloads;  // the same bytes, for gRPC calls without a copy each
};

ClientLoad makeClientLoad(const Args& args, bool spans) {
  ClientLoad load;
  load.spans = spans;
  for (int i = 0; i < 32; ++i) {
    load.payloads.push_back(spans ? bench::makeSpansRequest(args.records, 1000 + i)
                                  : bench::makeLogsRequest(args.records, 1000 + i));
    load.grpcPayloads.emplace_back(load.payloads.back());
  }
  return load;
}

// `args.clients` closed-loop clients, each sending its next request once the last is answered
// (a refused one after the delay the server asked for), for `seconds`, over OTLP/gRPC or
// OTLP/HTTP (protobuf, keep-alive) to `port`. Adds the rows of acknowledged requests to `rows`
// and counts the others in `refused`.
void driveClients(const Args& args, const ClientLoad& load, bool overGrpc, uint16_t port,
                  double seconds, std::atomic<uint64_t>& rows, std::atomic<uint64_t>& refused) {
  const char* path = load.spans ? "/v1/traces" : "/v1/logs";
  const size_t n = load.payloads.size();
  std::vector<std::thread> clients;
  const auto start = Clock::now();
  for (int c = 0; c < args.clients; ++c) {
    clients.emplace_back([&, c] {
      std::optional<GrpcExportClient> grpcClient;
      std::optional<testing::HttpClient> httpClient;
      if (overGrpc)
        grpcClient.emplace(port, load.spans);
      else
        httpClient.emplace(port);
      for (size_t i = static_cast<size_t>(c); secondsSince(start) < seconds; ++i) {
        bool ok = false;
        double retryAfter = 0;  // seconds the server asked to wait before the next request
        if (overGrpc) {
          const grpc::Status status = grpcClient->call(load.grpcPayloads[i % n]);
          ok = status.ok();
          // The receiver's RetryInfo says 1 s (OtlpGrpcOptions::retryDelayMillis).
          if (status.error_code() == grpc::StatusCode::UNAVAILABLE) retryAfter = 1;
        } else {
          const auto reply =
              httpClient->post(path, "application/x-protobuf", load.payloads[i % n] + uniqueTail());
          ok = reply.status == 200;
          const std::string after = reply.header("retry-after");
          if (!ok && !after.empty()) retryAfter = std::stod(after);
        }
        if (ok) {
          rows += static_cast<uint64_t>(args.records);
        } else {
          ++refused;
          // As the OpenTelemetry SDKs do: a refused request is sent again after the delay the
          // server gave, not at once (a client that retries at once spends the CPU the store
          // needs to drain the queue on requests it cannot take yet).
          const double left = seconds - secondsSince(start);
          if (retryAfter > 0 && left > 0) {
            std::this_thread::sleep_for(std::chrono::duration<double>(std::min(retryAfter, left)));
          }
        }
      }
    });
  }
  for (auto& t : clients) t.join();
}

LoadResult runLoad(const Args& args, bool spans, bool overGrpc = false, bool redactionOff = false,
                   const std::string& extraConfig = "") {
  const std::string dir = tempDir();
  LoadResult r;
  {
    std::string processors;
    if (redactionOff) processors += "    redaction: {enabled: false}\n";
    if (args.serverBatch > 0) {
      processors += "    batch: {sendBatchSize: " + std::to_string(args.serverBatch) + "}\n";
    }
    if (!processors.empty()) processors = "  processors:\n" + processors;
    ServerProcess server(args.server, dir, processors + extraConfig);
    const ClientLoad load = makeClientLoad(args, spans);
    const uint16_t port = overGrpc ? server.grpcPort() : server.otlpPort();
    auto drive = [&](double seconds, std::atomic<uint64_t>& rows, std::atomic<uint64_t>& refused) {
      driveClients(args, load, overGrpc, port, seconds, rows, refused);
    };
    const std::string table = spans ? "otel_traces" : "otel_logs";
    // Acknowledged means in the queue, synced; the store has the rows a moment later. A phase's
    // rate is its acknowledged rows over the time until they are all stored (counted).
    auto waitStored = [&](uint64_t expected) {
      const auto deadline = Clock::now() + std::chrono::seconds(120);
      while (server.count(table) < expected && Clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    };
    std::atomic<uint64_t> warmRows{0}, warmRefused{0};
    drive(2, warmRows, warmRefused);  // warm-up: pools, parts, page cache
    waitStored(warmRows);
    std::atomic<uint64_t> rows{0}, refused{0};
    const double cpu0 = server.cpuSeconds();
    const auto start = Clock::now();
    drive(args.seconds, rows, refused);
    const double ackedElapsed = secondsSince(start);
    waitStored(rows + warmRows);
    const double elapsed = secondsSince(start);
    const double cpu = server.cpuSeconds() - cpu0;
    r.rows = rows;
    r.refused = refused;
    r.rowsPerSecond = static_cast<double>(rows) / elapsed;
    r.ackedPerSecond = static_cast<double>(rows) / ackedElapsed;
    r.cpuPerMillion = cpu / (static_cast<double>(rows) / 1e6);
    r.peakRssMiB = server.peakRssMiB();
    r.meanInsertRows = meanInsertRows(server.adminPort());
    r.stored = server.count(table);
    const uint64_t expected = rows + warmRows;
    if (r.stored != expected) {
      std::fprintf(stderr, "MISMATCH: %llu rows acknowledged, %llu stored\n",
                   static_cast<unsigned long long>(expected),
                   static_cast<unsigned long long>(r.stored));
    }
  }
  removeDir(dir);
  return r;
}

struct OverloadResult {
  uint32_t limitMiB = 0;
  uint32_t engineLimitMiB = 0;
  uint64_t queueMiB = 0;
  double unloadedRowsPerSecond = 0;  // acknowledged in the window (the queue full)
  double unloadedStoredRowsPerSecond = 0;
  double unloadedEndToEndRowsPerSecond = 0;  // all it acknowledged over the time until stored
  double unloadedOnsetSeconds = 0;
  double overloadedRowsPerSecond = 0;  // acknowledged, once the queue is full
  double overloadedStoredRowsPerSecond = 0;
  double offeredRowsPerSecond = 0;  // acknowledged + refused, under overload
  uint64_t refused = 0;
  uint64_t refusedByLimiter = 0;  // of them, by the memory limiter (the server's counter)
  uint64_t refusedDecoded = 0;    // refused by the queue after their decoding (both parts)
  uint64_t failed = 0;            // neither 200 nor 503/429 with Retry-After
  double unloadedPeakRssMiB = 0;
  double overloadedPeakRssMiB = 0;
  double maxHeldMiB = 0;    // the limiter's held bytes, sampled every 100 ms
  double onsetSeconds = 0;  // from the start of the overload until the queue was full
  double serverCores = 0;   // the server's CPU over the overloaded window, in cores
  uint64_t acknowledged = 0;
  uint64_t stored = 0;
  int connections = 0;
};

// Phase 5: on one server with a memory limit and a queue of --overload-queue-mib, logs from
// `clients` closed-loop clients that wait as long as a refusal's Retry-After says, as the
// OpenTelemetry SDKs do (unloaded), then --overload-factor times that rate offered open-loop over
// many connections that do not back off when refused (overload).
//
// The two rates compared are what the server sustains, taken the same way: acknowledgement is at
// queue time, and the queue absorbs a burst faster than the store takes it, so each part's rate is
// the rows acknowledged in a window that starts once the queue is full (it holds 90 % of its
// size), when every acknowledgement waits for the store to make room. The rows the store took in
// each window are reported beside them, and the unloaded part's rate end to end (all it
// acknowledged over the time until stored, which counts the store's drain with nothing else
// running). Memory is the peak RSS of each part and the most bytes the memory limiter held.
OverloadResult runOverload(const Args& args) {
  OverloadResult r;
  r.limitMiB = args.overloadLimitMiB;
  r.engineLimitMiB = args.overloadEngineMiB;
  r.queueMiB = args.overloadQueueMiB;
  const std::string dir = tempDir();
  {
    ServerProcess server(
        args.server, dir,
        "  processors:\n    memoryLimiter: {limitMiB: " + std::to_string(r.limitMiB) +
            ", engineLimitMiB: " + std::to_string(r.engineLimitMiB) +
            "}\n  exporters:\n    clickhouse:\n      queue: {maxSize: " +
            std::to_string(r.queueMiB) + "Mi}\n");
    const ClientLoad logs = makeClientLoad(args, false);
    const std::vector<std::string>& payloads = logs.payloads;
    std::atomic<uint64_t> acknowledged{0};
    auto drive = [&](double seconds, std::atomic<uint64_t>& rows) {
      std::atomic<uint64_t> refused{0};
      driveClients(args, logs, false, server.otlpPort(), seconds, rows, refused);
      acknowledged += rows;
    };
    auto waitStored = [&](uint64_t expected) {
      const auto deadline = Clock::now() + std::chrono::seconds(300);
      while (server.count("otel_logs") < expected && Clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    };
    std::atomic<uint64_t> warm{0}, unloaded{0};
    // Each part's window starts once the store's queue is full (90 % of its size, or kOnset
    // seconds after the part started if it never gets there) and lasts args.seconds.
    constexpr double kOnset = 10;
    const double full = 0.9 * static_cast<double>(r.queueMiB << 20);
    auto awaitFullQueue = [&](Clock::time_point partStart) {
      testing::HttpClient admin(server.adminPort());
      while (secondsSince(partStart) < kOnset &&
             metricValue(admin.get("/metrics").body,
                         "stackhouse_queue_bytes{sink=\"clickhouse\"}") < full) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      return secondsSince(partStart);
    };
    // args.seconds from now: the rows `acked` counted and the store took, and the server's CPU,
    // per second; `counting` (when given) is true meanwhile.
    struct Window {
      double seconds = 0, ackedPerSecond = 0, storedPerSecond = 0, cores = 0;
    };
    auto measureWindow = [&](const std::atomic<uint64_t>* acked, std::atomic<bool>* counting) {
      const uint64_t acked0 = acked != nullptr ? acked->load() : 0;
      const uint64_t stored0 = server.count("otel_logs");
      const double cpu0 = server.cpuSeconds();
      const auto windowStart = Clock::now();
      if (counting != nullptr) *counting = true;
      std::this_thread::sleep_for(std::chrono::duration<double>(args.seconds));
      if (counting != nullptr) *counting = false;
      Window w;
      w.seconds = secondsSince(windowStart);
      const uint64_t acked1 = acked != nullptr ? acked->load() : 0;
      w.ackedPerSecond = static_cast<double>(acked1 - acked0) / w.seconds;
      w.storedPerSecond = static_cast<double>(server.count("otel_logs") - stored0) / w.seconds;
      w.cores = (server.cpuSeconds() - cpu0) / w.seconds;
      return w;
    };
    drive(2, warm);
    waitStored(warm);
    auto start = Clock::now();
    std::thread closedLoop([&] { drive(kOnset + args.seconds, unloaded); });
    r.unloadedOnsetSeconds = awaitFullQueue(start);
    const Window quiet = measureWindow(&unloaded, nullptr);
    r.unloadedRowsPerSecond = quiet.ackedPerSecond;
    r.unloadedStoredRowsPerSecond = quiet.storedPerSecond;
    closedLoop.join();
    waitStored(acknowledged);
    r.unloadedEndToEndRowsPerSecond = static_cast<double>(unloaded) / secondsSince(start);
    r.unloadedPeakRssMiB = server.peakRssMiB();
    // Sample RSS and the limiter's held bytes while overloaded.
    std::atomic<bool> sampling{true};
    double maxRss = 0;
    double maxHeld = 0;
    std::thread sampler([&] {
      testing::HttpClient admin(server.adminPort());
      while (sampling) {
        maxRss = std::max(maxRss, server.rssMiB());
        const std::string metrics = admin.get("/metrics").body;
        maxHeld = std::max(
            maxHeld, metricValue(metrics, "stackhouse_memory_limiter_held_bytes") / 1048576.0);
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    });
    // Open loop: ten times the unloaded rate, paced over many connections, each sending its next
    // request at its next slot whatever the last answer was (a late one is sent at once); the
    // load stops with the window.
    const double offeredRequestsPerSecond =
        args.overloadFactor * r.unloadedRowsPerSecond / args.records;
    // Enough connections that the ones waiting for their (slow, queued) acknowledgement leave the
    // others free to keep the pace; below the server's 4096.
    const int connections =
        std::min(4000, std::max(args.clients * 10, static_cast<int>(offeredRequestsPerSecond * 8)));
    r.connections = connections;
    std::atomic<bool> counting{false}, stop{false};
    bench::OpenLoopOptions load;
    load.port = server.otlpPort();
    load.connections = connections;
    load.requestsPerSecond = offeredRequestsPerSecond;
    load.seconds = kOnset + args.seconds + 30;  // a bound: `stop` ends it
    load.stop = &stop;
    load.counting = &counting;
    load.expectContinue = args.overloadExpectContinue;
    load.body = [&payloads](int connection, uint64_t n) {
      return payloads[(n + static_cast<size_t>(connection)) % payloads.size()] + uniqueTail();
    };
    bench::OpenLoopResult answers;
    const auto loadStart = Clock::now();
    std::thread generator([&] { answers = bench::runOpenLoop(load); });
    r.onsetSeconds = awaitFullQueue(loadStart);
    const Window overloaded = measureWindow(nullptr, &counting);
    const double elapsed = overloaded.seconds;
    stop = true;
    generator.join();
    const bench::OpenLoopCounts& counted = answers.counted;
    acknowledged += answers.all.ok * static_cast<uint64_t>(args.records);
    r.serverCores = overloaded.cores;
    r.overloadedRowsPerSecond =
        static_cast<double>(counted.ok * static_cast<uint64_t>(args.records)) / elapsed;
    r.overloadedStoredRowsPerSecond = overloaded.storedPerSecond;
    r.offeredRowsPerSecond = static_cast<double>((counted.ok + counted.refused + counted.failed) *
                                                 static_cast<uint64_t>(args.records)) /
                             elapsed;
    r.refused = counted.refused;
    r.failed = counted.failed;
    sampling = false;
    sampler.join();
    r.overloadedPeakRssMiB = maxRss;
    r.maxHeldMiB = maxHeld;
    {
      const std::string metrics = testing::HttpClient(server.adminPort()).get("/metrics").body;
      r.refusedByLimiter = static_cast<uint64_t>(
          metricValue(metrics, "stackhouse_memory_limiter_refused_total{receiver=\"otlp-http\"}"));
      r.refusedDecoded = static_cast<uint64_t>(
          metricValue(metrics, "stackhouse_queue_refused_decoded_total{sink=\"clickhouse\"}"));
    }
    waitStored(acknowledged);
    r.acknowledged = acknowledged;
    r.stored = server.count("otel_logs");
  }
  removeDir(dir);
  return r;
}

struct LatencyResult {
  double p50 = 0, p99 = 0, max = 0;
  size_t samples = 0;
};

LatencyResult runLatency(const Args& args, double rowsPerSecond) {
  const std::string dir = tempDir();
  std::vector<double> latencies;
  {
    ServerProcess server(args.server, dir);
    const double requestsPerSecond = rowsPerSecond / args.records;
    const double seconds = std::max(10.0, args.seconds);
    std::mutex mu;
    std::vector<std::thread> clients;
    const auto start = Clock::now();
    const int n = args.clients;
    for (int c = 0; c < n; ++c) {
      clients.emplace_back([&, c] {
        testing::HttpClient client(server.otlpPort());
        testing::HttpClient api(server.apiPort());
        const double interval = n / requestsPerSecond;  // each client's share of the pace
        for (int i = 0;; ++i) {
          const double due = interval * i + interval * c / n;
          if (due > seconds) break;
          const double wait = due - secondsSince(start);
          if (wait > 0) std::this_thread::sleep_for(std::chrono::duration<double>(wait));
          const bool sampled = i % 5 == 0;
          const std::string service = "latency-" + std::to_string(c) + "-" + std::to_string(i);
          const std::string body = bench::makeLogsRequest(
              args.records, static_cast<uint64_t>(c * 100000 + i), sampled ? service : "checkout");
          const auto sent = Clock::now();
          auto r = client.post("/v1/logs", "application/x-protobuf", body);
          if (r.status != 200 || !sampled) continue;
          // Poll until the rows are visible (acknowledged means committed, so normally at once).
          while (true) {
            auto q = server.sql(
                api,
                "{\"query\":\"SELECT count() FROM otel.otel_logs WHERE ServiceName = {s:String}\","
                "\"params\":{\"s\":\"" +
                    service + "\"}}");
            if (q.body.find("\"rows\":[[\"" + std::to_string(args.records) + "\"]]") !=
                std::string::npos)
              break;
            if (secondsSince(sent) > 30) break;
          }
          std::lock_guard lock(mu);
          latencies.push_back(secondsSince(sent));
        }
      });
    }
    for (auto& t : clients) t.join();
  }
  removeDir(dir);
  LatencyResult r;
  if (latencies.empty()) return r;
  std::sort(latencies.begin(), latencies.end());
  r.samples = latencies.size();
  r.p50 = latencies[latencies.size() / 2];
  r.p99 = latencies[std::min(latencies.size() - 1, latencies.size() * 99 / 100)];
  r.max = latencies.back();
  return r;
}

// Phase 4, in its own process: decode the same payloads once, then insert groups of batchSize
// rows straight into the store for `seconds`. Prints "ceiling <rows/s>".
int runCeiling(const Args& args) {
  const bool spans = args.ceiling == "spans";
  auto store = store::ChdbStore::open({args.dir + "/ceiling", 72 * 3600});
  if (!store) {
    std::fprintf(stderr, "%s\n", store.status().toString().c_str());
    return 1;
  }
  // --ceiling-drop-index: the ceiling's table without these skip indexes, to price each one.
  for (size_t b = 0; b < args.ceilingDropIndexes.size();) {
    size_t e = args.ceilingDropIndexes.find(',', b);
    if (e == std::string::npos) e = args.ceilingDropIndexes.size();
    auto dropped = store.value()->execute(std::string("ALTER TABLE otel.") +
                                          (spans ? "otel_traces" : "otel_logs") + " DROP INDEX " +
                                          args.ceilingDropIndexes.substr(b, e - b));
    if (!dropped) {
      std::fprintf(stderr, "%s\n", dropped.status().toString().c_str());
      return 1;
    }
    b = e + 1;
  }
  std::vector<std::unique_ptr<telemetry::LogBatch>> logs;
  std::vector<std::unique_ptr<telemetry::SpanBatch>> spanBatches;
  for (int i = 0; i < 32; ++i) {
    const std::string p = spans ? bench::makeSpansRequest(args.records, 1000 + i)
                                : bench::makeLogsRequest(args.records, 1000 + i);
    otlp::DecodeStats stats;
    const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(p.data()), p.size());
    if (spans) {
      spanBatches.push_back(std::make_unique<telemetry::SpanBatch>());
      (void)otlp::decodeSpans(bytes, otlp::Encoding::kProtobuf, *spanBatches.back(), stats);
    } else {
      logs.push_back(std::make_unique<telemetry::LogBatch>());
      (void)otlp::decodeLogs(bytes, otlp::Encoding::kProtobuf, *logs.back(), stats);
    }
  }
  int perGroup = std::max(1, args.batchSize / args.records);
  if (args.oneBlock) {
    // Decode batchSize rows into a single batch (the decoders append).
    for (int i = 0; i < perGroup; ++i) {
      const std::string p = spans ? bench::makeSpansRequest(args.records, 1000 + i)
                                  : bench::makeLogsRequest(args.records, 1000 + i);
      otlp::DecodeStats stats;
      const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(p.data()), p.size());
      if (spans) {
        (void)otlp::decodeSpans(bytes, otlp::Encoding::kProtobuf, *spanBatches[0], stats);
      } else {
        (void)otlp::decodeLogs(bytes, otlp::Encoding::kProtobuf, *logs[0], stats);
      }
    }
    perGroup = 1;
  }
  uint64_t rows = 0;
  int seq = 0;
  const auto start = Clock::now();
  while (secondsSince(start) < args.seconds) {
    const std::string token = "ceiling-" + std::to_string(++seq);
    Status s;
    if (spans) {
      std::vector<const telemetry::SpanBatch*> group;
      for (int i = 0; i < perGroup; ++i)
        group.push_back(spanBatches[static_cast<size_t>(i) % 32].get());
      s = store.value()->insert<telemetry::SpanBatch>(group, token);
    } else {
      std::vector<const telemetry::LogBatch*> group;
      for (int i = 0; i < perGroup; ++i) group.push_back(logs[static_cast<size_t>(i) % 32].get());
      s = store.value()->insert<telemetry::LogBatch>(group, token);
    }
    if (!s.isOk()) {
      std::fprintf(stderr, "%s\n", s.toString().c_str());
      return 1;
    }
    rows += spans ? spanBatches[0]->rows() * (args.oneBlock ? 1 : 0)
                  : logs[0]->rows() * (args.oneBlock ? 1 : 0);
    if (!args.oneBlock)
      rows += static_cast<uint64_t>(perGroup) * static_cast<uint64_t>(args.records);
  }
  std::printf("ceiling %.0f\n", static_cast<double>(rows) / secondsSince(start));
  if (args.engineCounters) {
    // The engine's own counters of the run (inserts and the merges they caused), to stderr.
    auto counters = store.value()->execute(
        "SELECT event, value FROM system.events WHERE event LIKE 'MergeTreeDataWriter%' OR event "
        "LIKE 'Merge%Milliseconds' OR event IN ('InsertQueryTimeMicroseconds', 'InsertedRows', "
        "'Merge', 'MergedRows', 'MergedUncompressedBytes', 'UserTimeMicroseconds', "
        "'SystemTimeMicroseconds')");
    std::fprintf(stderr, "%s\n",
                 counters ? counters->data.c_str() : counters.status().toString().c_str());
  }
  std::fflush(stdout);
  _exit(0);
}

double ceilingInChild(const Args& args, const char* self, const std::string& kind, int batchRows) {
  const std::string dir = tempDir();
  const std::string cmd = std::string(self) + " --ceiling " + kind + " --dir " + dir +
                          " --seconds " + std::to_string(args.seconds) + " --records " +
                          std::to_string(args.records) + " --batch " + std::to_string(batchRows);
  FILE* p = popen(cmd.c_str(), "r");
  double rate = 0;
  char line[256];
  while (p != nullptr && fgets(line, sizeof line, p) != nullptr) {
    if (std::strncmp(line, "ceiling ", 8) == 0) rate = std::atof(line + 8);
  }
  if (p != nullptr) pclose(p);
  removeDir(dir);
  return rate;
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  Args args;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--server")
      args.server = v;
    else if (k == "--seconds")
      args.seconds = std::stod(v);
    else if (k == "--clients")
      args.clients = std::stoi(v);
    else if (k == "--records")
      args.records = std::stoi(v);
    else if (k == "--batch")
      args.batchSize = std::stoi(v);
    else if (k == "--server-batch")
      args.serverBatch = std::stoi(v);
    else if (k == "--ceiling")
      args.ceiling = v;
    else if (k == "--dir")
      args.dir = v;
    else if (k == "--ceiling-drop-index")
      args.ceilingDropIndexes = v;
    else if (k == "--engine-counters")
      args.engineCounters = v == "1";
    else if (k == "--one-block")
      args.oneBlock = v == "1";
    else if (k == "--load-port")
      args.loadPort = std::stoi(v);
    else if (k == "--load-grpc")
      args.loadGrpc = v == "1";
    else if (k == "--load-spans")
      args.loadSpans = v == "1";
    else if (k == "--overload-limit-mib")
      args.overloadLimitMiB = static_cast<uint32_t>(std::stoul(v));
    else if (k == "--overload-engine-mib")
      args.overloadEngineMiB = static_cast<uint32_t>(std::stoul(v));
    else if (k == "--overload-factor")
      args.overloadFactor = std::stod(v);
    else if (k == "--overload-queue-mib")
      args.overloadQueueMiB = std::stoull(v);
    else if (k == "--only")
      args.only = v;
    else if (k == "--server-cpu")
      args.serverCpu = std::stoi(v);
    else if (k == "--overload-expect-continue")
      args.overloadExpectContinue = v == "1";
  }
  if (!args.ceiling.empty()) return runCeiling(args);
  if (args.loadPort != 0) {
    std::atomic<uint64_t> rows{0}, refused{0};
    const auto start = Clock::now();
    driveClients(args, makeClientLoad(args, args.loadSpans), args.loadGrpc,
                 static_cast<uint16_t>(args.loadPort), args.seconds, rows, refused);
    std::printf("%.0f rows/s\n", static_cast<double>(rows) / secondsSince(start));
    return 0;
  }

  const unsigned cores = std::thread::hardware_concurrency();
  if (args.serverCpu >= 0) {
    serverCpu = args.serverCpu;
    std::vector<int> others;
    for (int cpu = 0; cpu < static_cast<int>(cores); ++cpu) {
      if (cpu != serverCpu) others.push_back(cpu);
    }
    pinTo(others);
  }
  std::printf(
      "stackhouse ingest benchmark: %d clients, %d records/request, %.0f s per phase, "
      "batch %d rows, %u cores%s\n",
      args.clients, args.records, args.seconds, args.batchSize, cores,
      args.serverCpu >= 0 ? (", the servers on CPU " + std::to_string(args.serverCpu) +
                             " and the clients on the others")
                                .c_str()
                          : "");
  std::fflush(stdout);
  auto overloadRow = [&args](const OverloadResult& o) {
    std::printf(
        "overload (logs, memoryLimiter limitMiB %u, engineLimitMiB %u, queue %llu MiB): unloaded, "
        "%d clients: acknowledged %9.0f rows/s (stored %9.0f rows/s; end to end %9.0f rows/s; "
        "window from %.1f s), peak RSS %.0f MiB | %.0fx offered open-loop%s on %d connections: "
        "%9.0f rows/s, acknowledged %9.0f rows/s (stored %9.0f rows/s; window from %.1f s), "
        "ratio %.2f | server CPU %.2f cores | peak RSS %.0f MiB, limiter held at most %.0f MiB | "
        "refused %llu (over both parts: %llu by the memory limiter, %llu after decoding), other "
        "failures %llu | "
        "acknowledged %llu, stored %llu\n",
        o.limitMiB, o.engineLimitMiB, static_cast<unsigned long long>(o.queueMiB), args.clients,
        o.unloadedRowsPerSecond, o.unloadedStoredRowsPerSecond, o.unloadedEndToEndRowsPerSecond,
        o.unloadedOnsetSeconds, o.unloadedPeakRssMiB, args.overloadFactor,
        args.overloadExpectContinue ? " (Expect: 100-continue)" : "", o.connections,
        o.offeredRowsPerSecond, o.overloadedRowsPerSecond, o.overloadedStoredRowsPerSecond,
        o.onsetSeconds,
        o.unloadedRowsPerSecond > 0 ? o.overloadedRowsPerSecond / o.unloadedRowsPerSecond : 0.0,
        o.serverCores, o.overloadedPeakRssMiB, o.maxHeldMiB,
        static_cast<unsigned long long>(o.refused),
        static_cast<unsigned long long>(o.refusedByLimiter),
        static_cast<unsigned long long>(o.refusedDecoded),
        static_cast<unsigned long long>(o.failed), static_cast<unsigned long long>(o.acknowledged),
        static_cast<unsigned long long>(o.stored));
  };
  if (args.only == "overload") {
    overloadRow(runOverload(args));
    return 0;
  }
  auto row = [](const char* name, const LoadResult& r, double ceiling) {
    std::printf(
        "%-6s end to end %9.0f rows/s (acknowledged %9.0f rows/s) | ceiling (raw Arrow insert) "
        "%9.0f rows/s | ratio %.2f | CPU %.2f s per million rows | peak RSS %.0f MiB | rows per "
        "insert %.0f | acknowledged %llu, stored %llu, refused %llu\n",
        name, r.rowsPerSecond, r.ackedPerSecond, ceiling,
        ceiling > 0 ? r.rowsPerSecond / ceiling : 0.0, r.cpuPerMillion, r.peakRssMiB,
        r.meanInsertRows, static_cast<unsigned long long>(r.rows),
        static_cast<unsigned long long>(r.stored), static_cast<unsigned long long>(r.refused));
    std::fflush(stdout);
  };
  // `--only queue`: logs and spans over OTLP/HTTP, logs again with the queue not synced
  // (fsync: never) and over OTLP/gRPC, and the ceilings.
  // `--only logs`: the logs phase alone (comparing two builds, alternating).
  if (args.only == "logs") {
    row("logs", runLoad(args, false), 0);
    return 0;
  }
  if (args.only == "queue") {
    const LoadResult logs = runLoad(args, false);
    row("logs", logs, 0);
    const LoadResult noSync = runLoad(
        args, false, false, false, "  exporters:\n    clickhouse:\n      queue: {fsync: never}\n");
    row("logs-nosync", noSync, 0);
    const LoadResult spans = runLoad(args, true);
    row("spans", spans, 0);
    const LoadResult grpcLogs = runLoad(args, false, /*overGrpc=*/true);
    row("logs-grpc", grpcLogs, 0);
    const double logsCeiling = ceilingInChild(args, argv[0], "logs", args.batchSize);
    const double spansCeiling = ceilingInChild(args, argv[0], "spans", args.batchSize);
    std::printf("ceiling (raw Arrow insert, %d-row inserts): logs %.0f rows/s, spans %.0f rows/s\n",
                args.batchSize, logsCeiling, spansCeiling);
    std::printf(
        "logs end to end / ceiling %.2f | spans end to end / ceiling %.2f | gRPC/HTTP logs %.2f | "
        "fsync always / never %.2f\n",
        logs.rowsPerSecond / logsCeiling, spans.rowsPerSecond / spansCeiling,
        grpcLogs.rowsPerSecond / logs.rowsPerSecond, logs.rowsPerSecond / noSync.rowsPerSecond);
    return 0;
  }
  // Each redaction-off phase right after its redaction-on twin, so that drifting load on a shared
  // machine biases the comparison as little as possible.
  const LoadResult logs = runLoad(args, false);
  const LoadResult plainLogs = runLoad(args, false, /*overGrpc=*/false, /*redactionOff=*/true);
  const LoadResult spans = runLoad(args, true);
  const LoadResult plainSpans = runLoad(args, true, /*overGrpc=*/false, /*redactionOff=*/true);
  const LoadResult grpcLogs = runLoad(args, false, /*overGrpc=*/true);
  const LoadResult grpcSpans = runLoad(args, true, /*overGrpc=*/true);
  const LatencyResult latency = runLatency(args, logs.rowsPerSecond / 2);
  const OverloadResult overload = runOverload(args);
  const double logsCeiling = ceilingInChild(args, argv[0], "logs", args.batchSize);
  const double spansCeiling = ceilingInChild(args, argv[0], "spans", args.batchSize);
  // The ceiling again with the inserts the end-to-end phase could make: acknowledging after commit,
  // it never has more rows than the clients' requests in flight, so its inserts are smaller than
  // the batch size and cost the engine more per row.
  auto ownSize = [&args](const LoadResult& r) {
    return std::max(args.records,
                    static_cast<int>(r.meanInsertRows / args.records + 0.5) * args.records);
  };
  const double logsCeilingOwn = ceilingInChild(args, argv[0], "logs", ownSize(logs));
  const double spansCeilingOwn = ceilingInChild(args, argv[0], "spans", ownSize(spans));

  row("logs", logs, logsCeiling);
  row("spans", spans, spansCeiling);
  auto ownRow = [&](const char* name, const LoadResult& r, double ceiling) {
    std::printf(
        "%-6s end to end made inserts of %.0f rows on average | ceiling at %d-row inserts %9.0f "
        "rows/s | "
        "end to end / that ceiling %.2f\n",
        name, r.meanInsertRows, ownSize(r), ceiling, ceiling > 0 ? r.rowsPerSecond / ceiling : 0.0);
  };
  ownRow("logs", logs, logsCeilingOwn);
  ownRow("spans", spans, spansCeilingOwn);
  auto grpcRow = [](const char* name, const LoadResult& r, const LoadResult& http) {
    std::printf(
        "%-6s OTLP/gRPC  %9.0f rows/s | OTLP/HTTP %9.0f rows/s | gRPC/HTTP ratio %.2f | "
        "CPU %.2f s per million rows | peak RSS %.0f MiB | acknowledged %llu, stored %llu, "
        "refused %llu\n",
        name, r.rowsPerSecond, http.rowsPerSecond,
        http.rowsPerSecond > 0 ? r.rowsPerSecond / http.rowsPerSecond : 0.0, r.cpuPerMillion,
        r.peakRssMiB, static_cast<unsigned long long>(r.rows),
        static_cast<unsigned long long>(r.stored), static_cast<unsigned long long>(r.refused));
  };
  auto redactionRow = [](const char* name, const LoadResult& on, const LoadResult& off) {
    std::printf(
        "%-6s redaction on %9.0f rows/s | off %9.0f rows/s | cost %.1f %% of end-to-end throughput "
        "| "
        "CPU %.2f vs %.2f s per million rows\n",
        name, on.rowsPerSecond, off.rowsPerSecond,
        off.rowsPerSecond > 0 ? 100.0 * (1.0 - on.rowsPerSecond / off.rowsPerSecond) : 0.0,
        on.cpuPerMillion, off.cpuPerMillion);
  };
  redactionRow("logs", logs, plainLogs);
  redactionRow("spans", spans, plainSpans);
  grpcRow("logs", grpcLogs, logs);
  grpcRow("spans", grpcSpans, spans);
  std::printf(
      "send-to-queryable at %.0f rows/s (half the logs rate): p50 %.0f ms, p99 %.0f ms, max %.0f "
      "ms "
      "(%zu samples)\n",
      logs.rowsPerSecond / 2, latency.p50 * 1000, latency.p99 * 1000, latency.max * 1000,
      latency.samples);
  overloadRow(overload);
  return 0;
}
