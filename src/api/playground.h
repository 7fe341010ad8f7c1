#pragma once
// The web playground (GET /) and the operator page (GET /operator): plain HTML, CSS and
// JavaScript from src/api/playground/, compiled into the binary so they work offline with
// nothing beside the server. The playground talks to the unified dialect and builds its forms
// from that dialect's OpenAPI document; the operator page to the admin API.
#include <string_view>
#include <vector>

#include "api/router.h"

namespace wanserve::api {

struct Asset {
  std::string_view path;          // "/", "/playground/playground.js"
  std::string_view content_type;
  std::string_view body;
};

// Generated at build time (cmake/EmbedFiles.cmake).
const std::vector<Asset>& PlaygroundAssets();

// Serves each asset at its path with a strict Content-Security-Policy.
void RegisterPlayground(Router& router);

}  // namespace wanserve::api
