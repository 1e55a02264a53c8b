// The built web UI (ui/, built by Vite at build time) embedded in the binary, and the route that
// serves it on the API port for every path outside /api/.
//
// The asset table is generated at build time (cmake/embed_ui.cmake) from the Vite output: one
// entry per file, with its gzip twin when compressing it pays. It is empty when the binary was
// built without the UI (STACKHOUSE_UI=OFF, or no node at configure time).
#pragma once

#include <span>
#include <string_view>

#include "web/api_handler.h"

namespace stackhouse::web {

struct StaticAsset {
  std::string_view path;         // "/index.html", "/assets/index-3f2a9c.js"
  std::string_view contentType;  // "text/javascript; charset=utf-8"
  std::string_view body;
  std::string_view gzipBody;  // empty when the file is not worth compressing
  bool immutable;             // a content-hashed name: cached for a year
};

// The generated table; valid for the life of the program.
std::span<const StaticAsset> uiAssets();

// GET of any non-/api/ path: the asset of that path, or index.html for a path the single-page app
// routes itself (/search, /login, ...). A missing /assets/ file is 404, never HTML. Every answer
// carries the UI's security headers (a strict Content-Security-Policy without inline scripts,
// nosniff, no referrer, no framing). The route answers at once, on the calling thread.
Route staticRoute(std::span<const StaticAsset> assets);

}  // namespace stackhouse::web
