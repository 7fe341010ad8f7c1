#include "api/api_context.h"

namespace wanserve::api {

int64_t ApiContext::LinksExpireAt(const core::Task& task) const {
  if (task.finished_ms == 0) return 0;
  return (task.finished_ms + link_ttl_ms) / 1000;
}

std::string ApiContext::OutputUrl(const core::Task& task, const core::Output& output) const {
  if (task.outputs_expired) return {};
  return public_base_url + signer.SignedPath(output.blob_id, LinksExpireAt(task));
}

}  // namespace wanserve::api
