// Every dialect's request parser on arbitrary bodies: the JSON limits and parse, then each
// parser of each dialect. A parser must answer with a value or an error for any input; a
// throw (a field of an unexpected type read as another) or a sanitizer report is a crash.
#include <cstddef>
#include <cstdint>
#include <string>

#include "api/dialects/dashscope/internal.h"
#include "api/dialects/fields.h"
#include "api/dialects/market/internal.h"
#include "api/dialects/skills_video/internal.h"
#include "api/dialects/unified/internal.h"

using namespace wanserve::api::dialects;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto body = ParseJsonObject(std::string(reinterpret_cast<const char*>(data), size));
  if (!body.ok()) return 0;
  (void)unified::ParseImage(*body);
  (void)unified::ParseVideo(*body);
  for (auto endpoint : {skills_video::Endpoint::kImage, skills_video::Endpoint::kImagePro,
                        skills_video::Endpoint::kEditVideo, skills_video::Endpoint::kVideo}) {
    (void)skills_video::Parse(endpoint, *body);
    (void)skills_video::Parse(endpoint, *body, Leniency{.numeric_strings = true});
  }
  (void)market::Parse(*body);
  (void)dashscope::ParseVideo(*body);
  (void)dashscope::ParseImage(*body);
  return 0;
}
