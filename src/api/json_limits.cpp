#include "api/json_limits.h"

#include <fmt/format.h>

#include <cctype>
#include <string>

namespace wanserve::api {

Status CheckJsonShape(std::string_view text, int max_depth, size_t max_values) {
  int depth = 0;
  size_t values = 0;
  bool in_string = false;
  bool escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '[':
      case '{':
        if (++depth > max_depth) {
          return MakeError(ErrorCode::kInvalidInput,
                           fmt::format("request body nests arrays and objects deeper than {} levels", max_depth), "body");
        }
        ++values;
        break;
      case ']':
      case '}':
        --depth;
        break;
      case ',':
        ++values;
        break;
      default:
        break;
    }
    if (values > max_values) {
      return MakeError(ErrorCode::kInvalidInput,
                       fmt::format("request body holds more than {} values", max_values), "body");
    }
  }
  return Status::Ok();
}

nlohmann::json ParseBoundedJson(std::string_view text) {
  if (!CheckJsonShape(text).ok()) return nlohmann::json(nlohmann::json::value_t::discarded);
  return nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
}

Status CheckJsonContentType(std::string_view content_type) {
  std::string type(content_type.substr(0, content_type.find(';')));
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.pop_back();
  while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.erase(type.begin());
  for (auto& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (type.empty() || type == "application/json" || (type.starts_with("application/") && type.ends_with("+json"))) {
    return Status::Ok();
  }
  return MakeError(ErrorCode::kInvalidInput,
                   "Content-Type must be application/json, not " + type +
                       " (with curl: -H 'Content-Type: application/json')",
                   "Content-Type");
}

}  // namespace wanserve::api
