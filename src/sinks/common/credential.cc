#include "sinks/common/credential.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace stackhouse::sinks {

Result<std::string> readCredential(const CredentialSource& source, std::string_view what) {
  const std::string path = !source.file.empty() ? source.file
                                                : source.secretsDir + "/" + source.existingSecret +
                                                      "/" + source.secretKey;
  if (source.file.empty() && (source.existingSecret.empty() || source.secretKey.empty())) {
    return invalidArgument(std::string(what) + ": no credential configured");
  }
  struct Closer {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  std::unique_ptr<std::FILE, Closer> file(std::fopen(path.c_str(), "rb"));
  if (!file) {
    return invalidArgument(std::string(what) + ": cannot read " + path + ": " +
                           std::strerror(errno));
  }
  // A key or token is tens of bytes; anything past this is the wrong file.
  constexpr size_t kMaxBytes = 64 * 1024;
  std::string value(kMaxBytes + 1, '\0');
  value.resize(std::fread(value.data(), 1, value.size(), file.get()));
  if (value.size() > kMaxBytes) {
    return invalidArgument(std::string(what) + ": " + path + " is larger than 64 KiB");
  }
  while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
  if (value.empty()) return invalidArgument(std::string(what) + ": " + path + " is empty");
  for (unsigned char c : value) {
    if (c < 0x20 || c == 0x7f) {
      return invalidArgument(std::string(what) + ": " + path +
                             " holds a control character; a credential is one line of text");
    }
  }
  return value;
}

}  // namespace stackhouse::sinks
