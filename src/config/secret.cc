#include "config/secret.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "config/section.h"

namespace stackhouse::config {

Result<std::string> readSecretFile(const std::string& path, std::string_view what) {
  struct Closer {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  std::unique_ptr<std::FILE, Closer> file(std::fopen(path.c_str(), "rb"));
  if (!file) {
    return invalidArgument(std::string(what) + ": cannot read " + path + ": " +
                           std::strerror(errno));
  }
  // A key, token or password is tens of bytes; anything past this is the wrong file.
  constexpr size_t kMaxBytes = size_t{64} * 1024;
  std::string value(kMaxBytes + 1, '\0');
  value.resize(std::fread(value.data(), 1, value.size(), file.get()));
  if (std::ferror(file.get())) {  // a directory opens, and fails here (EISDIR)
    return invalidArgument(std::string(what) + ": cannot read " + path + ": " +
                           std::strerror(errno));
  }
  if (value.size() > kMaxBytes) {
    return invalidArgument(std::string(what) + ": " + path + " is larger than 64 KiB");
  }
  while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
  if (value.empty()) return invalidArgument(std::string(what) + ": " + path + " is empty");
  for (unsigned char c : value) {
    if (c < 0x20 || c == 0x7f) {
      return invalidArgument(std::string(what) + ": " + path +
                             " holds a control character; a secret is one line of text");
    }
  }
  return value;
}

Result<std::string> readSecret(const std::string& secretsDir, const std::string& name,
                               const std::string& key, std::string_view what) {
  return readSecretFile(secretsDir + "/" + name + "/" + key, what);
}

Result<std::string> readCredential(const CredentialConfig& credential,
                                   const std::string& secretsDir, std::string_view what) {
  if (!credential.file.empty()) return readSecretFile(credential.file, what);
  if (credential.existingSecret.empty() || credential.secretKey.empty()) {
    return invalidArgument(std::string(what) + ": no credential configured");
  }
  return readSecret(secretsDir, credential.existingSecret, credential.secretKey, what);
}

}  // namespace stackhouse::config
