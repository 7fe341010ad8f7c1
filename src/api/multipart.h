#pragma once
// multipart/form-data bodies (RFC 7578), as the providers' upload endpoints and skills.video's
// generation endpoints take them. Parts are views into the body; nothing is copied.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace wanserve::api {

struct FormPart {
  std::string name;                      // the form field, from Content-Disposition
  std::optional<std::string> file_name;  // set when the part is a file
  std::string content_type;              // the part's own Content-Type; "" when it has none
  std::string_view data;
};

// Whether the request's Content-Type names a multipart/form-data body.
bool IsMultipartFormData(std::string_view content_type);

// The parts of body, in order. kInvalidInput when the body does not follow the boundary of
// content_type, or a part lacks a form-data name.
Result<std::vector<FormPart>> ParseMultipart(std::string_view content_type, std::string_view body);

}  // namespace wanserve::api
