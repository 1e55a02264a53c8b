// The embedded UI's route on a hand-made asset table: which file answers which path, its headers,
// gzip negotiation, and that ApiHandler hands it only GETs outside /api/, after the Host check.
#include "web/static_assets.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "web/api_handler.h"

namespace stackhouse::web {
namespace {

const StaticAsset kAssets[] = {
    {"/index.html", "text/html; charset=utf-8", "<html>app</html>", "GZ-HTML", false},
    {"/assets/index-abc123.js", "text/javascript; charset=utf-8", "console.log(1)", "GZ-JS", true},
    {"/assets/logo-def456.svg", "image/svg+xml", "<svg/>", "", true},
};

http::Request get(std::string target, std::string acceptEncoding = "") {
  http::Request r;
  r.method = "GET";
  r.target = std::move(target);
  r.headers.emplace_back("host", "127.0.0.1:8080");
  if (!acceptEncoding.empty()) r.headers.emplace_back("accept-encoding", acceptEncoding);
  return r;
}

std::string header(const http::Response& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "<none>";
}

http::Response answer(const Route& route, http::Request request) {
  std::optional<http::Response> out;
  route(std::move(request), [&out](http::Response r) { out = std::move(r); });
  EXPECT_TRUE(out.has_value()) << "the route answers at once";
  return out.value_or(http::Response{});
}

TEST(StaticAssets, HashedAssetsAreImmutableAndGzippedWhenAccepted) {
  const Route route = staticRoute(kAssets);
  auto r = answer(route, get("/assets/index-abc123.js", "gzip, deflate, br"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.contentType, "text/javascript; charset=utf-8");
  EXPECT_EQ(r.body, "GZ-JS");
  EXPECT_EQ(header(r, "Content-Encoding"), "gzip");
  EXPECT_EQ(header(r, "Cache-Control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(header(r, "Vary"), "Accept-Encoding");

  for (const char* refuses : {"", "identity", "gzip;q=0", "br, gzip;q=0.0"}) {
    r = answer(route, get("/assets/index-abc123.js", refuses));
    EXPECT_EQ(r.body, "console.log(1)") << refuses;
    EXPECT_EQ(header(r, "Content-Encoding"), "<none>") << refuses;
  }
  r = answer(route, get("/assets/index-abc123.js", "deflate, gzip;q=0.5"));
  EXPECT_EQ(r.body, "GZ-JS");
  // A file without a compressed twin is sent as it is.
  r = answer(route, get("/assets/logo-def456.svg", "gzip"));
  EXPECT_EQ(r.body, "<svg/>");
  EXPECT_EQ(header(r, "Content-Encoding"), "<none>");
}

TEST(StaticAssets, AppPathsGetThePageAndMissingAssetsAre404) {
  const Route route = staticRoute(kAssets);
  for (const char* path : {"/", "/index.html", "/search", "/search?q=a%20b", "/login/x"}) {
    auto r = answer(route, get(path));
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_EQ(r.body, "<html>app</html>") << path;
    EXPECT_EQ(header(r, "Cache-Control"), "no-cache") << path;
  }
  auto r = answer(route, get("/assets/index-old999.js"));
  EXPECT_EQ(r.status, 404) << "never HTML where a script was asked for";
}

TEST(StaticAssets, EveryAnswerCarriesTheSecurityHeaders) {
  const Route route = staticRoute(kAssets);
  for (const char* path : {"/", "/assets/index-abc123.js", "/assets/gone.js"}) {
    auto r = answer(route, get(path));
    const std::string csp = header(r, "Content-Security-Policy");
    EXPECT_NE(csp.find("script-src 'self'"), std::string::npos) << path;
    EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos) << path;
    EXPECT_EQ(csp.find("unsafe"), std::string::npos) << path;
    EXPECT_EQ(header(r, "X-Content-Type-Options"), "nosniff") << path;
    EXPECT_EQ(header(r, "Referrer-Policy"), "no-referrer") << path;
  }
}

TEST(StaticAssets, ABuildWithoutTheUiSaysSo) {
  auto r = answer(staticRoute({}), get("/"));
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("without the web UI"), std::string::npos);
}

TEST(StaticAssets, ApiHandlerFallsBackOnlyForGetsOutsideApi) {
  ApiHandler api(ApiOptions{});
  int served = 0;
  api.setFallback([&served](http::Request&&, http::Respond respond) {
    ++served;
    respond(http::textResponse(200, "ui"));
  });
  api.setGuard([](const http::Request&) -> std::optional<http::Response> {
    return apiError(401, "UNAUTHENTICATED", "no session");
  });
  const auto status = [&api](http::Request r) {
    int out = 0;
    api.handle(std::move(r), [&out](http::Response resp) { out = resp.status; });
    return out;
  };
  EXPECT_EQ(status(get("/")), 200) << "the UI needs no session: the login page must load";
  EXPECT_EQ(status(get("/search")), 200);
  EXPECT_EQ(status(get("/api/v1/anything")), 401)
      << "/api/ paths never reach the UI, and the guard answers before any 404";
  EXPECT_EQ(served, 2);
  auto post = get("/");
  post.method = "POST";
  post.headers.emplace_back("content-type", "application/json");
  EXPECT_EQ(status(std::move(post)), 405);
  auto foreign = get("/");
  foreign.headers[0].second = "evil.example";
  EXPECT_EQ(status(std::move(foreign)), 403) << "the DNS-rebinding check covers the UI";
  auto crossOrigin = get("/");
  crossOrigin.headers.emplace_back("origin", "https://evil.example");
  EXPECT_EQ(status(std::move(crossOrigin)), 403);
  EXPECT_EQ(served, 2);
}

}  // namespace
}  // namespace stackhouse::web
