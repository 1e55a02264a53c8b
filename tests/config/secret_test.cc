// The one reader of secrets and credential files (config/secret.h).
#include "config/secret.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "config/section.h"
#include "support/temp_dir.h"

namespace stackhouse::config {
namespace {

class SecretTest : public ::testing::Test {
 protected:
  // Writes `content` to <dir>/<name>/<key> and returns the file's path.
  std::string write(const std::string& name, const std::string& key, const std::string& content) {
    std::filesystem::create_directories(dir_.path() + "/" + name);
    const std::string path = dir_.path() + "/" + name + "/" + key;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }
  const std::string& dir() const { return dir_.path(); }

 private:
  testing::TempDir dir_;
};

TEST_F(SecretTest, ReadsTheValueWithoutItsTrailingNewlines) {
  write("ch", "password", "s3cret value\r\n\n");
  auto value = readSecret(dir(), "ch", "password", "otelConfig.exporters.clickhouse");
  ASSERT_TRUE(value.isOk()) << value.status().message();
  EXPECT_EQ(value.value(), "s3cret value");
}

TEST_F(SecretTest, ACredentialComesFromItsFileOrItsMountedSecret) {
  write("dd", "api-key", "from-the-secret\n");
  const std::string file = write("files", "token", "from-the-file");

  CredentialConfig mounted{.existingSecret = "dd", .secretKey = "api-key"};
  auto a = readCredential(mounted, dir(), "otelConfig.exporters.datadog");
  ASSERT_TRUE(a.isOk()) << a.status().message();
  EXPECT_EQ(a.value(), "from-the-secret");

  CredentialConfig own{.file = file};
  auto b = readCredential(own, dir(), "otelConfig.exporters.logfire");
  ASSERT_TRUE(b.isOk()) << b.status().message();
  EXPECT_EQ(b.value(), "from-the-file");

  auto none = readCredential(CredentialConfig{}, dir(), "otelConfig.exporters.tinybird");
  ASSERT_FALSE(none.isOk());
  EXPECT_EQ(none.status().message(), "otelConfig.exporters.tinybird: no credential configured");
}

// A value with CR or LF would end the header it is put in and start one of the attacker's
// (a scrape job's bearer token, a vendor key): refused at start-up, as every control byte is.
TEST_F(SecretTest, RefusesWhatNoHeaderMayCarryAndNamesTheKeyNeverTheContent) {
  struct Case {
    const char* name;
    std::string content;
    std::string problem;
  };
  const Case cases[] = {
      {"header injection", "token\r\nX-Injected: yes", "holds a control character"},
      {"a lone LF inside", "tok\nen", "holds a control character"},
      {"NUL", std::string("tok\0en", 6), "holds a control character"},
      {"DEL", "tok\x7f", "holds a control character"},
      {"tab", "tok\ten", "holds a control character"},
      {"empty", "\n", "is empty"},
      {"too large", std::string(64 * 1024 + 1, 'a'), "is larger than 64 KiB"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string path = write("job", "token", c.content);
    CredentialConfig credential{.file = path};
    auto value =
        readCredential(credential, dir(), "prometheusScrape.scrapeJobs (job a) bearerToken");
    ASSERT_FALSE(value.isOk());
    EXPECT_EQ(
        value.status().message(),
        "prometheusScrape.scrapeJobs (job a) bearerToken: " + path + " " + c.problem +
            (c.problem == "holds a control character" ? "; a secret is one line of text" : ""));
  }
}

TEST_F(SecretTest, AMissingFileOrADirectoryIsNamedWithItsKey) {
  auto value = readSecret(dir(), "absent", "key", "clickstack.hyperdx.seedUser");
  ASSERT_FALSE(value.isOk());
  EXPECT_EQ(value.status().message(), "clickstack.hyperdx.seedUser: cannot read " + dir() +
                                          "/absent/key: No such file or directory");

  std::filesystem::create_directories(dir() + "/ch/password");
  auto directory = readSecret(dir(), "ch", "password", "otelConfig.exporters.clickhouse");
  ASSERT_FALSE(directory.isOk());
  EXPECT_EQ(directory.status().message(), "otelConfig.exporters.clickhouse: cannot read " + dir() +
                                              "/ch/password: Is a directory");
}

}  // namespace
}  // namespace stackhouse::config
