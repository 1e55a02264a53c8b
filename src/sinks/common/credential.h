// A sink's credential (API key, token) from a mounted secret or a file, read once by its factory.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace stackhouse::sinks {

// Where a credential comes from: <secretsDir>/<existingSecret>/<secretKey>, or `file`. The
// configuration checks that exactly one is set when the sink is enabled.
struct CredentialSource {
  std::string secretsDir;
  std::string existingSecret;
  std::string secretKey;
  std::string file;
};

// The credential without trailing newlines. kInvalidArgument (start-up) when the file cannot be
// read, is empty, or holds a byte no HTTP header may carry (CR, LF, NUL, other controls). The
// message names `what` (the configuration key) and the path, never the content.
Result<std::string> readCredential(const CredentialSource& source, std::string_view what);

}  // namespace stackhouse::sinks
