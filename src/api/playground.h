#pragma once
// The web playground (GET /): plain HTML, CSS and JavaScript from src/api/playground/, compiled
// into the binary so it works offline with nothing beside the server. It talks to the unified
// dialect and builds its forms from that dialect's OpenAPI document.
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
