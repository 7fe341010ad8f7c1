// multipart/form-data bodies (uploads, skills.video's form creates): the first line of the
// input is the Content-Type, the rest the body. Parts must lie inside the body.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "api/multipart.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t newline = input.find('\n');
  if (newline == std::string_view::npos) return 0;
  const std::string_view type = input.substr(0, newline);
  const std::string_view body = input.substr(newline + 1);
  (void)wanserve::api::IsMultipartFormData(type);
  auto parts = wanserve::api::ParseMultipart(type, body);
  if (!parts.ok()) return 0;
  for (const auto& part : *parts) {
    if (part.data.data() < body.data() || part.data.data() + part.data.size() > body.data() + body.size()) std::abort();
  }
  return 0;
}
