// A listening address as written in configuration: "host:port", "[::1]:port".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace stackhouse::config {

struct Endpoint {
  // An IPv4 or IPv6 literal (IPv6 without brackets) or "localhost"; never a name that needs DNS,
  // so where a listener binds never depends on a resolver at start-up.
  std::string host;
  // 0 asks the kernel for a free port (tests).
  uint16_t port = 0;

  // "127.0.0.1:4318", "[::1]:4318", "localhost:8080": parseEndpoint reads it back unchanged.
  std::string toString() const;

  bool operator==(const Endpoint&) const = default;
};

// Parses "host:port" or "[ipv6]:port". On failure the status message quotes the text and says
// what is wrong, e.g. `"example.com:80" is not an endpoint such as 127.0.0.1:4318 (the host must
// be an IP address or localhost)`.
Result<Endpoint> parseEndpoint(std::string_view text);

// True when two listeners would fight over one socket: the same non-zero port on the same
// address, or on any address when one of them is a wildcard (0.0.0.0, ::). localhost counts as
// both 127.0.0.1 and ::1.
bool endpointsCollide(const Endpoint& a, const Endpoint& b);

// True when the host is loopback only: localhost, 127.0.0.0/8, ::1. A wildcard is not.
bool isLoopbackHost(std::string_view host);

}  // namespace stackhouse::config
