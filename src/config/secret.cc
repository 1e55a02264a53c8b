#include "config/secret.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace stackhouse::config {

Result<std::string> readSecret(const std::string& secretsDir, const std::string& name,
                               const std::string& key, std::string_view what) {
  const std::string path = secretsDir + "/" + name + "/" + key;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return invalidArgument(std::string(what) + ": cannot read " + path + ": " +
                           std::strerror(errno));
  }
  std::stringstream text;
  text << in.rdbuf();
  std::string value = text.str();
  while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
  if (value.empty()) return invalidArgument(std::string(what) + ": " + path + " is empty");
  return value;
}

}  // namespace stackhouse::config
