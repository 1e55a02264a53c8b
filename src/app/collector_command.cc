#include "app/collector_command.h"

#include <string>

#include "app/ingest_stack.h"
#include "common/log.h"
#include "stackdump/stackdump.h"
#include "web/admin_handler.h"

namespace stackhouse::app {

int runCollector(const config::Config& given) {
  // The collector is what clickstack.enabled: false means, so the router's view of the sinks
  // (config::sinkEnabled: the clickhouse sink only with a remote endpoint) is that config's.
  config::Config config = given;
  config.clickstack.enabled = false;

  web::AdminHandler admin;
  auto adminServer = startAdmin(config, admin);
  if (!adminServer) return failedStart(adminServer.status());
  auto ingest = IngestStack::open(config, /*embeddedStore=*/nullptr, adminServer.value()->port());
  if (!ingest) return failedStart(ingest.status());
  if (Status started = ingest.value()->startReceivers(); !started.isOk()) {
    return failedStart(started);
  }

  admin.setReady(true);
  stackdump::warmUp();
  log::Fields ready;
  ready.add("role", "collector");
  ingest.value()->addListeners(ready);
  ready.add("admin", config.otelConfig.admin.endpoint.host + ":" +
                         std::to_string(adminServer.value()->port()));
  log::info("ready", ready);

  awaitStop(admin);
  ingest.value()->stop();
  adminServer.value()->stop();
  log::info("stopped");
  return 0;
}

}  // namespace stackhouse::app
