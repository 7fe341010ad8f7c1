#include "api/api_context.h"

#include <fmt/format.h>

#include "api/dialects/fields.h"

namespace wanserve::api {

int64_t ApiContext::LinksExpireAt(const core::Task& task) const {
  if (task.finished_ms == 0) return 0;
  return (task.finished_ms + link_ttl_ms) / 1000;
}

std::string ApiContext::OutputUrl(const core::Task& task, const core::Output& output) const {
  if (task.outputs_expired) return {};
  return public_base_url + signer.SignedPath(output.blob_id, LinksExpireAt(task));
}

Status ApiContext::CheckOutboundUrls(const core::GenerationRequest& r, const nlohmann::json& body) const {
  if (!outbound) return Status::Ok();
  auto check = [&](const std::string& url, bool callback) -> Status {
    Status s = Status::Ok();
    auto own = callback || !own_links ? std::nullopt : own_links->Resolve(url);
    if (own) {
      if (own->ok()) return s;
      s = own->error();
    } else {
      s = outbound->CheckUrl(url, /*require_https=*/callback);
    }
    if (s.ok()) return s;
    std::string field = dialects::PathOf(body, url);
    Error e = MakeError(ErrorCode::kInvalidInput, fmt::format("{}: {}", field, s.error().message), field);
    e.detail_code = s.error().detail_code;
    return e;
  };
  if (!r.callback_url.empty()) RETURN_IF_ERROR(check(r.callback_url, true));
  for (const auto& url : r.image_urls) RETURN_IF_ERROR(check(url, false));
  if (!r.video_url.empty()) RETURN_IF_ERROR(check(r.video_url, false));
  for (const auto& url : r.audio_urls) RETURN_IF_ERROR(check(url, false));
  for (const std::string* url : {&r.first_frame_url, &r.last_frame_url}) {
    if (!url->empty()) RETURN_IF_ERROR(check(*url, false));
  }
  for (const auto& url : r.reference_video_urls) RETURN_IF_ERROR(check(url, false));
  for (const auto& [target, url] : r.voice_bindings) RETURN_IF_ERROR(check(url, false));
  return Status::Ok();
}

}  // namespace wanserve::api
