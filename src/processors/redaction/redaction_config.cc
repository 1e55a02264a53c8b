#include "processors/redaction/redaction_config.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace stackhouse::redaction {

namespace {

Action actionOf(config::RedactionAction a) {
  switch (a) {
    case config::RedactionAction::kMask: return Action::kMask;
    case config::RedactionAction::kHash: return Action::kHash;
    case config::RedactionAction::kRemove: return Action::kRemove;
  }
  return Action::kMask;
}

void append(std::vector<std::string>& to, const std::vector<std::string>& more) {
  to.insert(to.end(), more.begin(), more.end());
}

Result<std::string> readSmallFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status(StatusCode::kNotFound, path + ": " + std::strerror(errno));
  std::string text;
  char buffer[4096];
  while (true) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int e = errno;
      ::close(fd);
      return internalError(path + ": cannot read: " + std::strerror(e));
    }
    if (n == 0) break;
    text.append(buffer, static_cast<size_t>(n));
    if (text.size() > 64 * 1024) {
      ::close(fd);
      return invalidArgument(path + ": larger than 64 KiB; this is not a key file");
    }
  }
  ::close(fd);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

}  // namespace

Policy policyFromConfig(const config::RedactionProcessorConfig& c, std::string hmacKey) {
  Policy p = defaultPolicy();
  for (RulePolicy& rule : p.rules) rule.action = actionOf(c.action);
  p.rule(Rule::kBlockedKeys).action =
      c.action == config::RedactionAction::kHash ? Action::kHash : Action::kMask;
  for (const auto& [name, rule] : c.rules) {
    const auto r = ruleFromName(name);
    if (!r) continue;  // names are checked when the configuration is parsed
    p.rule(*r).enabled = rule.enabled;
    if (rule.action) p.rule(*r).action = actionOf(*rule.action);
  }
  p.rule(Rule::kAllowList).enabled = c.allowListMode;
  p.hashUrlHosts = c.hashUrlHosts;
  p.allowedKeys = c.allowedKeys;
  p.ignoredKeys = c.ignoredKeys;
  p.allowedValues = c.allowedValues;
  p.safeQueryKeys = c.safeQueryKeys;
  append(p.blockedKeys, c.blockedKeys);
  append(p.urlKeys, c.urlKeys);
  append(p.fileNameKeys, c.fileNameKeys);
  p.hmacKey = std::move(hmacKey);
  return p;
}

Result<std::string> resolveHmacKey(const config::RedactionProcessorConfig& c,
                                   const std::string& dataDir) {
  if (!c.hmacKey.empty()) return c.hmacKey;
  if (!c.hmacKeyFile.empty()) {
    auto key = readSmallFile(c.hmacKeyFile);
    if (!key.isOk()) return key.status();
    if (key.value().size() < 16) {
      return invalidArgument("otelConfig.processors.redaction.hmacKeyFile: " + c.hmacKeyFile +
                             " holds " + std::to_string(key.value().size()) +
                             " bytes; at least 16 are needed");
    }
    return key;
  }
  const std::string path = dataDir + "/redaction-hmac.key";
  auto existing = readSmallFile(path);
  if (existing.isOk() && existing.value().size() >= 16) return existing;
  ::mkdir(dataDir.c_str(), 0755);
  unsigned char random[32];
  if (RAND_bytes(random, sizeof random) != 1)
    return internalError("no random bytes for the redaction key");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string key;
  for (unsigned char b : random) {
    key += kHex[b >> 4];
    key += kHex[b & 0xf];
  }
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return internalError(path + ": cannot create: " + std::strerror(errno));
  const std::string line = key + "\n";
  const bool written = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
                       ::fsync(fd) == 0;
  ::close(fd);
  if (!written) return internalError(path + ": cannot write the key");
  return key;
}

}  // namespace stackhouse::redaction
