#pragma once
// The Idempotency-Key header of create requests: what a replay must repeat to get its task back.
#include <string>

#include "api/http.h"
#include "common/error.h"

namespace wanserve::api {

// The header's value; "" when absent. kInvalidInput naming Idempotency-Key when it is empty,
// longer than 255 characters or not printable ASCII.
Result<std::string> ReadIdempotencyKey(const HttpRequest& req);

// A hash of what the request asks for: method, path and body. A JSON body counts by its
// value (whitespace and key order do not matter), a multipart body by its parts (the
// boundary a client library picks anew on each try does not), any other body byte by byte.
std::string RequestFingerprint(const HttpRequest& req);

}  // namespace wanserve::api
