#include "api/dialects/common_rules.h"

namespace wanserve::api::dialects {

Status CheckCallbackUrl(const std::string& url, const std::string& field) {
  return CheckUrl(url, field, /*https_only=*/true, /*max_length=*/2048);
}

}  // namespace wanserve::api::dialects
