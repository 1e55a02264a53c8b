// Credentials and secrets, one reader for all of them: a mounted secret (`existingSecret` +
// `secretKey` name the file <secretsDir>/<existingSecret>/<secretKey>, a Kubernetes secret mounted
// as a folder, one file per key) or, where a key allows it, a file of its own. Every secret
// stackhouse reads ends up in an HTTP header or is compared with one (an ingestion key, a
// ClickHouse password, a vendor's API key, a scrape job's bearer token), so every one is held to
// what a header may carry.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace stackhouse::config {

struct CredentialConfig;

// The file's content without its trailing newlines. kInvalidArgument (start-up) when the file
// cannot be read, is empty, is over 64 KiB, or holds a control character (CR, LF, NUL and the
// others: no HTTP header may carry one, and a CR/LF in a header value is a request of the
// attacker's making). The message names `what` (the configuration key) and the path, never the
// content.
Result<std::string> readSecretFile(const std::string& path, std::string_view what);

// readSecretFile of <secretsDir>/<name>/<key>.
Result<std::string> readSecret(const std::string& secretsDir, const std::string& name,
                               const std::string& key, std::string_view what);

// A credential from its mounted secret or its file (`file` wins when both are set; the
// configuration refuses that). kInvalidArgument when neither is configured.
Result<std::string> readCredential(const CredentialConfig& credential,
                                   const std::string& secretsDir, std::string_view what);

}  // namespace stackhouse::config
