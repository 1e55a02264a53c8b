// From otelConfig.processors.redaction to a Policy, and the HMAC key behind hashes.
#pragma once

#include <string>

#include "common/status.h"
#include "config/config.h"
#include "processors/redaction/policy.h"

namespace stackhouse::redaction {

// The default policy with the configuration's changes applied (extra key lists are added to the
// defaults). `hmacKey` is the resolved key (resolveHmacKey).
Policy policyFromConfig(const config::RedactionProcessorConfig& config, std::string hmacKey);

// The HMAC key: hmacKey as configured; else the contents of hmacKeyFile (a trailing newline
// dropped; at least 16 bytes); else a random key kept in <dataDir>/redaction-hmac.key (created,
// mode 0600, on first start) so that hashes stay comparable across restarts.
Result<std::string> resolveHmacKey(const config::RedactionProcessorConfig& config,
                                   const std::string& dataDir);

}  // namespace stackhouse::redaction
