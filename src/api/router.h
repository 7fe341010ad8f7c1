#pragma once
// Method + path routing with {param} segments. Each route carries the error renderer of its
// dialect, so that failures found before the handler runs (body too large, no key) are
// answered in the shape the client expects.
#include <string>
#include <vector>

#include "api/http.h"

namespace wanserve::api {

// Who may call a route: anyone, a client's API key, or an operator's admin token. Each
// credential opens only its own kind of route.
enum class Access { kPublic, kApiKey, kAdminToken };

struct Route {
  std::string method;
  std::string pattern;   // "/api/v1/generation/{id}"
  Access access = Access::kApiKey;
  Handler handler;
  ErrorRenderer render_error;
  size_t body_limit = 0;  // 0 = the server's http.body_limit
  // Limit for multipart/form-data bodies, which carry files; 0 = body_limit.
  size_t form_body_limit = 0;
  // The handler may wait on the network (an object store): a GET runs on the handler pool
  // too, not on the connection's thread.
  bool blocking = false;
  // The dialect's JSON answers carry a top-level `request_id` (DashScope): the server writes
  // the exchange's id (the X-Request-Id header and the access log's) there, so a client's
  // report of a failure names the log line.
  bool echoes_request_id = false;
};

namespace detail {
// A route pattern split into segments once, at registration.
struct CompiledPattern {
  std::vector<std::string> segments;
  std::vector<bool> is_param;
};
}  // namespace detail

struct RouteMatch {
  const Route* route = nullptr;  // null when nothing matched
  bool path_matched = false;     // a route had this path under another method
  std::map<std::string, std::string> params;
};

class Router {
 public:
  void Add(Route route);
  RouteMatch Match(const std::string& method, const std::string& path) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
  std::vector<detail::CompiledPattern> compiled_;
};

}  // namespace wanserve::api
