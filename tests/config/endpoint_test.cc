#include "config/endpoint.h"

#include <gtest/gtest.h>

namespace stackhouse::config {
namespace {

TEST(ParseEndpoint, AcceptsIpLiteralsAndLocalhost) {
  struct Case {
    std::string_view text;
    std::string host;
    uint16_t port;
  };
  const Case cases[] = {
      {"127.0.0.1:4318", "127.0.0.1", 4318}, {"0.0.0.0:8080", "0.0.0.0", 8080},
      {"localhost:0", "localhost", 0},       {"[::1]:4318", "::1", 4318},
      {"[::]:65535", "::", 65535},           {"[fe80::1:2]:80", "fe80::1:2", 80},
  };
  for (const auto& c : cases) {
    auto parsed = parseEndpoint(c.text);
    ASSERT_TRUE(parsed.isOk()) << c.text << ": " << parsed.status().message();
    EXPECT_EQ(parsed->host, c.host);
    EXPECT_EQ(parsed->port, c.port);
    EXPECT_EQ(parsed->toString(), c.text);
  }
}

TEST(ParseEndpoint, RejectsWithPreciseMessages) {
  struct Case {
    std::string_view text;
    std::string_view message;
  };
  const Case cases[] = {
      {"localhost", R"("localhost" is not an endpoint such as 127.0.0.1:4318 (missing :port))"},
      {"8080", R"("8080" is not an endpoint such as 127.0.0.1:4318 (missing :port))"},
      {"[::1]", R"("[::1]" is not an endpoint such as 127.0.0.1:4318 (missing :port))"},
      {"", R"("" is not an endpoint such as 127.0.0.1:4318 (missing :port))"},
      {":4318",
       R"(":4318" is not an endpoint such as 127.0.0.1:4318 (the host is missing; 0.0.0.0 listens on every interface))"},
      {"example.com:80",
       R"("example.com:80" is not an endpoint such as 127.0.0.1:4318 (the host must be an IP address or localhost))"},
      {"127.1:80",
       R"("127.1:80" is not an endpoint such as 127.0.0.1:4318 (the host must be an IP address or localhost))"},
      {"256.0.0.1:80",
       R"("256.0.0.1:80" is not an endpoint such as 127.0.0.1:4318 (the host must be an IP address or localhost))"},
      {"::1:4318",
       R"("::1:4318" is not an endpoint such as 127.0.0.1:4318 (write an IPv6 address in brackets, such as [::1]:4318))"},
      {"[127.0.0.1]:80",
       R"("[127.0.0.1]:80" is not an endpoint such as 127.0.0.1:4318 (only an IPv6 address goes in brackets))"},
      {"[::1:80",
       R"("[::1:80" is not an endpoint such as 127.0.0.1:4318 (an IPv6 address in brackets, such as [::1]:4318, is expected))"},
      {"127.0.0.1:",
       R"("127.0.0.1:" is not an endpoint such as 127.0.0.1:4318 (the port must be a number from 0 to 65535))"},
      {"127.0.0.1:65536",
       R"("127.0.0.1:65536" is not an endpoint such as 127.0.0.1:4318 (the port must be a number from 0 to 65535))"},
      {"127.0.0.1:http",
       R"("127.0.0.1:http" is not an endpoint such as 127.0.0.1:4318 (the port must be a number from 0 to 65535))"},
      {"127.0.0.1:-1",
       R"("127.0.0.1:-1" is not an endpoint such as 127.0.0.1:4318 (the port must be a number from 0 to 65535))"},
  };
  for (const auto& c : cases) {
    auto parsed = parseEndpoint(c.text);
    ASSERT_FALSE(parsed.isOk()) << c.text;
    EXPECT_EQ(parsed.status().message(), c.message) << c.text;
  }
}

TEST(EndpointsCollide, SamePortOnOverlappingAddresses) {
  auto e = [](const char* text) { return parseEndpoint(text).value(); };
  EXPECT_TRUE(endpointsCollide(e("127.0.0.1:80"), e("127.0.0.1:80")));
  EXPECT_TRUE(endpointsCollide(e("0.0.0.0:80"), e("127.0.0.1:80")));
  EXPECT_TRUE(endpointsCollide(e("127.0.0.1:80"), e("[::]:80")));
  EXPECT_TRUE(endpointsCollide(e("localhost:80"), e("127.0.0.1:80")));
  EXPECT_TRUE(endpointsCollide(e("localhost:80"), e("[::1]:80")));
  EXPECT_FALSE(endpointsCollide(e("127.0.0.1:80"), e("127.0.0.1:81")));
  EXPECT_FALSE(endpointsCollide(e("127.0.0.1:80"), e("127.0.0.2:80")));
  EXPECT_FALSE(endpointsCollide(e("127.0.0.1:80"), e("[::1]:80")));
  EXPECT_FALSE(endpointsCollide(e("127.0.0.1:0"), e("127.0.0.1:0")));  // each gets its own port
}

}  // namespace
}  // namespace stackhouse::config
