#include "common/error.h"

namespace wanserve {

std::string_view ToString(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidInput: return "invalid_input";
    case ErrorCode::kUnsupportedModel: return "unsupported_model";
    case ErrorCode::kUnauthorized: return "unauthorized";
    case ErrorCode::kForbidden: return "forbidden";
    case ErrorCode::kNotFound: return "not_found";
    case ErrorCode::kInvalidId: return "invalid_id";
    case ErrorCode::kConflict: return "conflict";
    case ErrorCode::kPayloadTooLarge: return "payload_too_large";
    case ErrorCode::kInsufficientCredits: return "insufficient_credits";
    case ErrorCode::kRateLimited: return "rate_limited";
    case ErrorCode::kContentRejected: return "content_rejected";
    case ErrorCode::kUpstreamFailed: return "upstream_failed";
    case ErrorCode::kTimeout: return "timeout";
    case ErrorCode::kUnavailable: return "unavailable";
    case ErrorCode::kCanceled: return "canceled";
    case ErrorCode::kInternal: return "internal";
  }
  return "internal";
}

ErrorCode ParseErrorCode(std::string_view text) {
  for (int i = 0; i <= static_cast<int>(ErrorCode::kInternal); ++i) {
    auto code = static_cast<ErrorCode>(i);
    if (ToString(code) == text) return code;
  }
  return ErrorCode::kInternal;
}

}  // namespace wanserve
