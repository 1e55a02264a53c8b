// The OTLP ingestion key (otelConfig.receivers.otlp.auth): when one is configured, every OTLP
// request, HTTP or gRPC, must carry it as `Authorization: Bearer <key>` or, as HyperDX's
// collectors send it, as the bare `authorization: <key>`.
#pragma once

#include <string_view>

namespace stackhouse::receivers {

// True when `key` is empty (none configured) or `authorization` carries it. The comparison takes
// the same time wherever the bytes differ.
bool ingestionKeyAccepted(std::string_view key, std::string_view authorization);

}  // namespace stackhouse::receivers
