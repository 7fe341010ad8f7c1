#pragma once
// Limits checked on request JSON before any tree is built: nlohmann::json allocates a node per
// value and recurses per level, so a 1 MB body of '[' cost about 250 MB (and deep stack) just
// to be refused. One linear pass over the text, with no allocation, refuses such bodies first.
#include <nlohmann/json.hpp>

#include <cstddef>
#include <string_view>

#include "common/error.h"

namespace wanserve::api {

inline constexpr int kMaxJsonDepth = 64;             // no request of any dialect nests beyond ~6
inline constexpr size_t kMaxJsonValues = 100'000;    // arrays and objects' members, in all

// kInvalidInput (field "body") when the text nests arrays and objects deeper than max_depth or
// holds more than max_values elements; says nothing about whether the text is valid JSON.
Status CheckJsonShape(std::string_view text, int max_depth = kMaxJsonDepth, size_t max_values = kMaxJsonValues);

// json::parse without exceptions, after CheckJsonShape: discarded when either refuses.
nlohmann::json ParseBoundedJson(std::string_view text);

// A body read as JSON must say so: Content-Type application/json or a +json type, any
// parameters (charset) allowed. A request with no Content-Type is read as JSON too, since it
// claims nothing else. kInvalidInput naming "Content-Type" otherwise, e.g. for curl -d without
// -H, which sends application/x-www-form-urlencoded.
Status CheckJsonContentType(std::string_view content_type);

}  // namespace wanserve::api
