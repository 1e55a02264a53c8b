#include "web/static_assets.h"

#include <algorithm>
#include <string>

namespace stackhouse::web {

namespace {

// No inline script or style element anywhere: the built UI loads everything from 'self'. Styles
// set through the DOM (element.style) are not restricted by style-src, which is how the charts
// place their elements.
constexpr std::string_view kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; manifest-src 'self'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'";

bool acceptsGzip(std::string_view acceptEncoding) {
  // "gzip", "gzip;q=0" (refused), "deflate, gzip;q=0.8"
  size_t at = 0;
  while (at < acceptEncoding.size()) {
    size_t end = acceptEncoding.find(',', at);
    if (end == std::string_view::npos) end = acceptEncoding.size();
    std::string_view item = acceptEncoding.substr(at, end - at);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    if (item.starts_with("gzip") || item.starts_with("*")) {
      const auto q = item.find("q=");
      if (q == std::string_view::npos) return true;
      std::string_view value = item.substr(q + 2);
      return !(value.starts_with("0") && value.find_first_not_of("0.") >= value.size());
    }
    at = end + 1;
  }
  return false;
}

void securityHeaders(http::Headers& headers) {
  headers.emplace_back("Content-Security-Policy", std::string(kContentSecurityPolicy));
  headers.emplace_back("X-Content-Type-Options", "nosniff");
  headers.emplace_back("Referrer-Policy", "no-referrer");
  headers.emplace_back("X-Frame-Options", "DENY");
  headers.emplace_back("Cross-Origin-Opener-Policy", "same-origin");
}

}  // namespace

Route staticRoute(std::span<const StaticAsset> assets) {
  return [assets](http::Request&& request, http::Respond respond) {
    http::Response r;
    securityHeaders(r.headers);
    const auto find = [assets](std::string_view path) -> const StaticAsset* {
      const auto it = std::find_if(assets.begin(), assets.end(),
                                   [path](const StaticAsset& a) { return a.path == path; });
      return it == assets.end() ? nullptr : &*it;
    };
    std::string_view path = request.path();
    if (path == "/") path = "/index.html";
    const StaticAsset* asset = find(path);
    // Paths the app routes itself get the page; a missing file under /assets/ (an old hashed name
    // after an upgrade) must not be answered with HTML the browser would try to run as a script.
    if (!asset && !path.starts_with("/assets/")) asset = find("/index.html");
    if (!asset) {
      r.status = 404;
      r.contentType = "text/plain; charset=utf-8";
      r.body = assets.empty() ? "this stackhouse was built without the web UI\n" : "not found\n";
      respond(std::move(r));
      return;
    }
    r.contentType = std::string(asset->contentType);
    r.headers.emplace_back("Cache-Control",
                           asset->immutable ? "public, max-age=31536000, immutable" : "no-cache");
    r.headers.emplace_back("Vary", "Accept-Encoding");
    if (!asset->gzipBody.empty() && acceptsGzip(request.header("accept-encoding"))) {
      r.headers.emplace_back("Content-Encoding", "gzip");
      r.body = std::string(asset->gzipBody);
    } else {
      r.body = std::string(asset->body);
    }
    respond(std::move(r));
  };
}

}  // namespace stackhouse::web
