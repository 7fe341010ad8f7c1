#include "api/access_log.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>

#include "common/crypto.h"

namespace wanserve::api {

std::string RequestIdFor(std::string_view client_value) {
  const bool plain = !client_value.empty() && client_value.size() <= 128 &&
                     std::all_of(client_value.begin(), client_value.end(), [](char c) {
                       return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == ':' || c == '-';
                     });
  if (plain) return std::string(client_value);
  return RandomUuid();
}

void LogAccess(const AccessRecord& r) {
  // Below info level the line would be dropped: do not build it (this runs on every request).
  if (!spdlog::should_log(spdlog::level::info)) return;
  nlohmann::json line = {{"event", "http"},
                         {"request_id", r.request_id},
                         {"method", r.method},
                         {"path", r.path},
                         {"status", r.status},
                         {"ms", std::round(r.seconds * 1e4) / 10},
                         {"remote", r.remote}};
  if (!r.route.empty()) line["route"] = r.route;
  if (!r.key_id.empty()) line["key"] = r.key_id;
  // Invalid UTF-8 in a path is replaced, not thrown on: the log line must always be written.
  spdlog::info("{}", line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace wanserve::api
