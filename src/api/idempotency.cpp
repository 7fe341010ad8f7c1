#include "api/idempotency.h"

#include <nlohmann/json.hpp>

#include "api/json_limits.h"
#include "api/multipart.h"
#include "common/crypto.h"

namespace wanserve::api {

Result<std::string> ReadIdempotencyKey(const HttpRequest& req) {
  auto value = req.Header("idempotency-key");
  if (!value) return std::string();
  bool printable = !value->empty() && value->size() <= 255;
  for (char c : *value) printable = printable && c >= 0x20 && c < 0x7f;
  if (!printable) {
    return MakeError(ErrorCode::kInvalidInput, "Idempotency-Key: 1 to 255 printable ASCII characters",
                     "Idempotency-Key");
  }
  return std::string(*value);
}

std::string RequestFingerprint(const HttpRequest& req) {
  Sha256 hash;
  // Each piece is length-prefixed, so no two different requests concatenate alike.
  auto add = [&hash](std::string_view piece) {
    hash.Update(std::to_string(piece.size()) + ":");
    hash.Update(piece);
  };
  add(req.method);
  add(req.path);
  const std::string type = req.Header("content-type").value_or("");
  if (IsMultipartFormData(type)) {
    if (auto parts = ParseMultipart(type, req.body); parts.ok()) {
      for (const auto& part : *parts) {
        add(part.name);
        add(part.file_name.value_or(""));
        add(part.content_type);
        add(part.data);
      }
      return hash.FinalHex();
    }
  }
  const auto body = ParseBoundedJson(req.body);
  add(body.is_discarded() ? req.body : body.dump());
  return hash.FinalHex();
}

}  // namespace wanserve::api
