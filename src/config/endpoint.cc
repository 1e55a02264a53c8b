#include "config/endpoint.h"

#include <arpa/inet.h>

#include <array>
#include <cstring>
#include <vector>

#include "config/quote.h"

namespace stackhouse::config {
namespace {

Status notAnEndpoint(std::string_view text, std::string_view hint) {
  std::string message = quoted(text) + " is not an endpoint such as 127.0.0.1:4318";
  if (!hint.empty()) {
    message += " (";
    message += hint;
    message += ')';
  }
  return invalidArgument(std::move(message));
}

bool isIpv4(const std::string& host) {
  in_addr address{};
  return inet_pton(AF_INET, host.c_str(), &address) == 1;
}

bool isIpv6(const std::string& host) {
  in6_addr address{};
  return inet_pton(AF_INET6, host.c_str(), &address) == 1;
}

// Every address as 16 bytes (IPv4 mapped into IPv6) so the two families compare alike.
using Address = std::array<unsigned char, 16>;

std::vector<Address> addressesOf(const std::string& host) {
  std::vector<Address> out;
  auto add = [&out](const std::string& literal) {
    Address a{};
    in_addr v4{};
    in6_addr v6{};
    if (inet_pton(AF_INET, literal.c_str(), &v4) == 1) {
      a[10] = 0xFF;
      a[11] = 0xFF;
      std::memcpy(&a[12], &v4, 4);
      out.push_back(a);
    } else if (inet_pton(AF_INET6, literal.c_str(), &v6) == 1) {
      std::memcpy(a.data(), &v6, 16);
      out.push_back(a);
    }
  };
  if (host == "localhost") {
    add("127.0.0.1");
    add("::1");
  } else {
    add(host);
  }
  return out;
}

bool isWildcard(const std::string& host) {
  static const Address kV4Any = [] {
    Address a{};
    a[10] = 0xFF;
    a[11] = 0xFF;
    return a;
  }();
  for (const Address& a : addressesOf(host)) {
    if (a == Address{} || a == kV4Any) return true;
  }
  return false;
}

}  // namespace

std::string Endpoint::toString() const {
  std::string portText = std::to_string(port);
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + portText;
  return host + ":" + portText;
}

Result<Endpoint> parseEndpoint(std::string_view text) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || text.back() == ']') {
    return notAnEndpoint(text, "missing :port");
  }
  std::string_view host = text.substr(0, colon);
  std::string_view portText = text.substr(colon + 1);

  bool bracketed = false;
  if (!host.empty() && host.front() == '[') {
    if (host.back() != ']' || host.size() < 2) {
      return notAnEndpoint(text, "an IPv6 address in brackets, such as [::1]:4318, is expected");
    }
    host = host.substr(1, host.size() - 2);
    bracketed = true;
  }
  Endpoint endpoint;
  endpoint.host = std::string(host);
  if (endpoint.host.empty()) {
    return notAnEndpoint(text, "the host is missing; 0.0.0.0 listens on every interface");
  }
  if (bracketed) {
    if (!isIpv6(endpoint.host)) {
      return notAnEndpoint(text, "only an IPv6 address goes in brackets");
    }
  } else if (endpoint.host.find(':') != std::string::npos) {
    return notAnEndpoint(text, "write an IPv6 address in brackets, such as [::1]:4318");
  } else if (endpoint.host != "localhost" && !isIpv4(endpoint.host)) {
    return notAnEndpoint(text, "the host must be an IP address or localhost");
  }

  bool digits = !portText.empty() && portText.size() <= 5;
  uint32_t port = 0;
  for (char c : portText) {
    digits = digits && c >= '0' && c <= '9';
    if (digits) port = port * 10 + static_cast<uint32_t>(c - '0');
  }
  if (!digits || port > 65535) {
    return notAnEndpoint(text, "the port must be a number from 0 to 65535");
  }
  endpoint.port = static_cast<uint16_t>(port);
  return endpoint;
}

bool endpointsCollide(const Endpoint& a, const Endpoint& b) {
  if (a.port != b.port || a.port == 0) return false;
  if (isWildcard(a.host) || isWildcard(b.host)) return true;
  for (const Address& x : addressesOf(a.host)) {
    for (const Address& y : addressesOf(b.host)) {
      if (x == y) return true;
    }
  }
  return false;
}

bool isLoopbackHost(std::string_view host) {
  return host == "localhost" || host == "::1" || host.starts_with("127.");
}

}  // namespace stackhouse::config
