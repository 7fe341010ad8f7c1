#pragma once
// The one error vocabulary of wanserve. Expected failures travel as values (Result<T>);
// exceptions are reserved for bugs and start-up failures.
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace wanserve {

// Stable, client-visible error classes. Each dialect maps these to its own HTTP status and body
// in one place (its render file).
enum class ErrorCode {
  kInvalidInput,         // a field broke a rule of the API
  kUnsupportedModel,     // unknown model name
  kUnauthorized,         // missing or wrong API key
  kForbidden,            // bad or expired signature, not allowed
  kNotFound,             // unknown id (or another key's)
  kInvalidId,            // id that cannot be one of ours
  kConflict,             // state does not allow the operation (cancel a finished task)
  kPayloadTooLarge,      // body over the limit
  kInsufficientCredits,  // not enough credits
  kRateLimited,          // too many requests
  kContentRejected,      // safety checker refused
  kUpstreamFailed,       // generation failed in the provider
  kTimeout,              // generation ran out of time
  kUnavailable,          // provider or store unavailable
  kCanceled,             // task was canceled
  kInternal,             // a bug or an unexpected failure
};

std::string_view ToString(ErrorCode code);
// Inverse of ToString; kInternal for unknown text.
ErrorCode ParseErrorCode(std::string_view text);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  // The request field the error is about ("prompt", "input.n"), empty when none.
  std::string field;
  // Finer machine code for task failures ("lease_expired", "image_too_small"); empty when none.
  std::string detail_code;
  // For kRateLimited: when to try again (the Retry-After header), 0 = unknown.
  int retry_after_s = 0;
};

inline Error MakeError(ErrorCode code, std::string message, std::string field = {}) {
  return Error{code, std::move(message), std::move(field), {}, 0};
}

// Result<T>: a value or an Error. Deliberately small: the codebase needs ok(), value(), error()
// and the propagation macros below, nothing more.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}     // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const Error& error() const { return std::get<1>(v_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Error> v_;
};

// Status: success or an Error.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT
  static Status Ok() { return Status(); }
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

}  // namespace wanserve

#define WS_CONCAT_INNER(a, b) a##b
#define WS_CONCAT(a, b) WS_CONCAT_INNER(a, b)

// RETURN_IF_ERROR(status_or_result): returns its Error from the enclosing function.
#define RETURN_IF_ERROR(expr)                                  \
  do {                                                         \
    auto&& ws_status_ = (expr);                                \
    if (!ws_status_.ok()) return ws_status_.error();           \
  } while (false)

// ASSIGN_OR_RETURN(lhs, result_expr): lhs = value, or returns the Error.
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL(WS_CONCAT(ws_result_, __LINE__), lhs, expr)
#define ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                          \
  if (!tmp.ok()) return tmp.error();          \
  lhs = std::move(tmp).value()
