// Mounted secrets: `existingSecret` + `secretKey` name the file
// <secretsDir>/<existingSecret>/<secretKey> (a Kubernetes secret mounted as a folder, one file per
// key).
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace stackhouse::config {

// The secret's value without its trailing newline. Fails (kInvalidArgument, naming `what`, the
// config key, and the path, never the value) when the file cannot be read or is empty.
Result<std::string> readSecret(const std::string& secretsDir, const std::string& name,
                               const std::string& key, std::string_view what);

}  // namespace stackhouse::config
