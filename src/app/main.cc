// stackhouse: one binary, several roles.
//
//   stackhouse run [--config FILE] [--data-dir DIR]   the stack (default)
//   stackhouse collector [--config FILE] [--data-dir DIR]
//                                                     receivers, pipeline, remote sinks only
//   stackhouse sql [--config FILE] [--json] "SQL"     a query, printed as a table
//   stackhouse audit [--config FILE] [--since 24h]    stored rows that still look sensitive
//   stackhouse validate --config FILE                 checks the configuration, starts nothing
//
// Only `run` and `collector` create or change a data directory (the collector: its queues and
// request ledger only). `sql` and `audit` ask the running stack's API, or read the data directory
// read-only (app/read_only_store.h); so must any later command that only reads one.
//
// First thing, in every role: the SIGUSR2 stack dumper, and SIGINT/SIGTERM blocked in every
// thread (the main thread waits for them with sigwait).
#include <malloc.h>
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <string>

#include "app/audit_command.h"
#include "app/collector_command.h"
#include "app/run_command.h"
#include "app/sql_command.h"
#include "common/cpu.h"
#include "common/log.h"
#include "common/thread_name.h"
#include "config/config.h"
#include "config/validate.h"
#include "receivers/receiver_factory.h"
#include "sinks/sink_factory.h"
#include "stackdump/stackdump.h"

namespace {

// The embedded engine has no shutdown call, and returning from main can crash in global
// destructors while its threads still run: flush and leave at once.
[[noreturn]] void leave(int code) {
  std::fflush(stdout);
  std::fflush(stderr);
  _exit(code);
}

// The sections of every sink and receiver this build has.
stackhouse::config::SectionKinds sectionKinds() {
  return stackhouse::receivers::sectionKinds(stackhouse::sinks::exporterKinds());
}

stackhouse::config::Config loadConfig(const std::string& path, const std::string& dataDir) {
  stackhouse::config::Config config = path.empty()
                                          ? stackhouse::config::defaultConfig(sectionKinds())
                                          : stackhouse::config::loadConfig(path, sectionKinds());
  if (!dataDir.empty()) config.clickstack.dataDir = dataDir;
  return config;
}

}  // namespace

int main(int argc, char** argv) {
  sigset_t stopSignals;
  sigemptyset(&stopSignals);
  sigaddset(&stopSignals, SIGINT);
  sigaddset(&stopSignals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stopSignals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  // Request bodies and column buffers are hundreds of kilobytes: by default glibc gives each such
  // allocation fresh pages from mmap and returns them on free, so every request pays page faults
  // for zeroed memory. Keep them in the heap instead; what the heap holds is bounded by the
  // pipeline's pending-bytes limit.
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  // glibc makes up to 8 heaps (arenas) per core for threads that contend, and each keeps its own
  // free memory: under overload the process held ~300 MiB more than with one arena per core, for
  // no measurable CPU per row (docs/operations.md, "Memory and overload"). The cores are those a
  // container's CPU limit allows, not the node's.
  mallopt(M_ARENA_MAX, std::max(2, stackhouse::usableCpus()));

  CLI::App cli{"stackhouse: a private observability stack in one program"};
  cli.require_subcommand(0, 1);
  std::string configPath;
  std::string dataDir;
  auto* run =
      cli.add_subcommand("run", "Run the stack: OTLP receivers, pipeline, embedded store, API");
  run->add_option("--config", configPath, "YAML configuration file")->check(CLI::ExistingFile);
  run->add_option("--data-dir", dataDir, "Data directory (overrides clickstack.dataDir)");
  auto* collector = cli.add_subcommand(
      "collector",
      "Run as a collector: OTLP receivers, pipeline and remote sinks; no embedded store, no UI");
  collector->add_option("--config", configPath, "YAML configuration file")
      ->check(CLI::ExistingFile);
  collector->add_option("--data-dir", dataDir,
                        "Data directory for the queues (overrides clickstack.dataDir)");
  auto* sql = cli.add_subcommand("sql", "Run a read-only SQL query and print the result");
  std::string query;
  bool json = false;
  sql->add_option("--config", configPath, "YAML configuration file")->check(CLI::ExistingFile);
  sql->add_option("--data-dir", dataDir,
                  "Data directory, read (never changed) when no stack's API answers");
  sql->add_flag("--json", json, "Print the API's JSON instead of a table");
  sql->add_option("query", query, "The SQL query")->required();
  auto* audit = cli.add_subcommand(
      "audit", "Scan stored telemetry with the redaction detectors; exit 1 when anything is found");
  std::string since = "24h";
  audit->add_option("--config", configPath, "YAML configuration file")->check(CLI::ExistingFile);
  audit->add_option("--data-dir", dataDir,
                    "Data directory, read (never changed) when no stack's API answers");
  audit->add_option("--since", since, "Scan rows younger than this duration (default 24h)");
  auto* validate = cli.add_subcommand(
      "validate", "Check a configuration file without starting anything; exit 1 on any error");
  validate->add_option("--config", configPath, "YAML configuration file")->required();
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    leave(cli.exit(e));
  }
  if (validate->parsed()) {
    // Reads the file as `run` would and reports; no listener, store or thread is started.
    const stackhouse::config::Validation v =
        stackhouse::config::validateConfigFile(configPath, sectionKinds());
    std::fprintf(v.valid ? stdout : stderr, "%s\n", v.text.c_str());
    leave(v.valid ? 0 : 1);
  }

  const bool isSql = sql->parsed();
  stackhouse::stackdump::install(isSql                 ? "stackhouse-sql"
                                 : audit->parsed()     ? "stackhouse-audit"
                                 : collector->parsed() ? "stackhouse-collector"
                                                       : "stackhouse-run");
  stackhouse::setThreadName(isSql ? "sql" : audit->parsed() ? "audit" : "main");

  stackhouse::config::Config config;
  try {
    config = loadConfig(configPath, dataDir);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "stackhouse: %s\n", e.what());
    leave(2);
  }
  if (isSql) leave(stackhouse::app::runSqlCommand(config, query, json));
  if (audit->parsed()) {
    stackhouse::app::AuditOptions options;
    auto duration = stackhouse::config::parseDuration(since);
    if (!duration) {
      std::fprintf(stderr, "stackhouse audit: --since: %s\n", duration.status().message().c_str());
      leave(2);
    }
    options.since = *duration;
    leave(stackhouse::app::runAuditCommand(config, options));
  }
  if (collector->parsed()) leave(stackhouse::app::runCollector(config));
  leave(stackhouse::app::runStack(config));
}
