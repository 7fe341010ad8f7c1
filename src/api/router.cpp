#include "api/router.h"

#include <string_view>

namespace wanserve::api {
namespace {

std::vector<std::string_view> Split(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    parts.push_back(path.substr(i, j - i));
    i = j;
  }
  return parts;
}

bool MatchPattern(const detail::CompiledPattern& pattern, const std::vector<std::string_view>& path,
                  std::map<std::string, std::string>& params) {
  if (pattern.segments.size() != path.size()) return false;
  for (size_t i = 0; i < path.size(); ++i) {
    if (!pattern.is_param[i] && pattern.segments[i] != path[i]) return false;
  }
  for (size_t i = 0; i < path.size(); ++i) {
    if (pattern.is_param[i]) params[pattern.segments[i]] = std::string(path[i]);
  }
  return true;
}

}  // namespace

void Router::Add(Route route) {
  detail::CompiledPattern c;
  for (auto part : Split(route.pattern)) {
    const bool param = part.size() > 2 && part.front() == '{' && part.back() == '}';
    c.is_param.push_back(param);
    c.segments.emplace_back(param ? part.substr(1, part.size() - 2) : part);
  }
  compiled_.push_back(std::move(c));
  routes_.push_back(std::move(route));
}

RouteMatch Router::Match(const std::string& method, const std::string& path) const {
  RouteMatch m;
  // Literal routes are registered before parameterised ones with the same shape, so the first
  // match wins (e.g. /api/v1/generations/running before a {id} route).
  const auto parts = Split(path);
  for (size_t i = 0; i < routes_.size(); ++i) {
    const Route& r = routes_[i];
    std::map<std::string, std::string> params;
    if (!MatchPattern(compiled_[i], parts, params)) continue;
    if (r.method != method) {
      m.path_matched = true;
      continue;
    }
    m.route = &r;
    m.params = std::move(params);
    return m;
  }
  return m;
}

}  // namespace wanserve::api
