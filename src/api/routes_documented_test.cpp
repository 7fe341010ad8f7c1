// Every route a client of a dialect calls is in that dialect's OpenAPI document: a route added
// without its document entry fails here, so the documents describe the whole API.
#include <gtest/gtest.h>

#include <set>

#include "api/dialects/dashscope/dashscope.h"
#include "api/dialects/dashscope/internal.h"
#include "api/dialects/market/internal.h"
#include "api/dialects/market/market.h"
#include "api/dialects/skills_video/internal.h"
#include "api/dialects/skills_video/skills_video.h"
#include "api/dialects/unified/internal.h"
#include "api/dialects/unified/unified.h"
#include "api/openapi.h"
#include "api/router.h"
#include "store/sqlite/sqlite_store.h"
#include "testing/temp_dir.h"

namespace wanserve::api {
namespace {

using nlohmann::json;

std::vector<std::string> Segments(const std::string& path) {
  std::vector<std::string> out;
  size_t at = 1;
  while (at <= path.size()) {
    const size_t end = std::min(path.find('/', at), path.size());
    out.push_back(path.substr(at, end - at));
    at = end + 1;
  }
  return out;
}

bool IsParameter(const std::string& segment) { return segment.starts_with('{') && segment.ends_with('}'); }

// A document path describes a route when every segment is the same or the route's segment is
// a parameter ("/api/v1/generation/alibaba/wan-v2.7-image" describes ".../{provider}/{model}");
// parameter names may differ.
bool Describes(const std::string& doc_path, const std::string& pattern) {
  const auto doc = Segments(doc_path), route = Segments(pattern);
  if (doc.size() != route.size()) return false;
  for (size_t i = 0; i < doc.size(); ++i) {
    if (IsParameter(route[i])) continue;
    if (IsParameter(doc[i]) || doc[i] != route[i]) return false;
  }
  return true;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

TEST(RoutesDocumented, EveryRouteOfEveryDialectIsInADocument) {
  testing::TempDir dir;
  auto store = store::OpenSqliteStore({.path = (dir.path() / "wanserve.db").string()});
  ASSERT_TRUE(store.ok()) << store.error().message;
  providers::ProviderRegistry registry;
  tasks::TaskService tasks(**store, registry, MakeSystemClock());
  media::UrlSigner signer("a secret long enough for a signer, thirty-two bytes");
  const ApiContext ctx{tasks, signer, MakeSystemClock(), "http://127.0.0.1:8080"};
  Router router;
  dialects::skills_video::Register(router, ctx);
  dialects::unified::Register(router, ctx);
  dialects::market::Register(router, ctx);
  dialects::dashscope::Register(router, ctx);
  dialects::market::RegisterFiles(router, ctx);
  dialects::unified::RegisterFiles(router, ctx);
  dialects::dashscope::RegisterUploads(router, ctx);

  std::vector<json> documents;
  for (auto make : {dialects::skills_video::OpenApiDocument, dialects::unified::OpenApiDocument,
                    dialects::market::OpenApiDocument, dialects::dashscope::OpenApiDocument}) {
    auto doc = make(ctx.public_base_url);
    ASSERT_TRUE(doc.ok()) << doc.error().message;
    documents.push_back(*doc);
  }
  size_t documented = 0;
  for (const Route& route : router.routes()) {
    if (route.pattern.starts_with("/openapi/")) continue;  // the documents themselves
    bool found = false, path_found = false;
    for (const json& doc : documents) {
      for (const auto& [path, operations] : doc["paths"].items()) {
        if (!Describes(path, route.pattern)) continue;
        path_found = true;
        found = found || operations.contains(Lower(route.method));
      }
    }
    if (found) {
      ++documented;
    } else if (path_found) {
      // kie answers other methods on its upload paths 405 in its envelope: a refusal, not an
      // operation.
      HttpRequest request;
      request.method = route.method;
      request.path = route.pattern;
      EXPECT_EQ(route.handler(request, {}).status, 405) << route.method << " " << route.pattern << " is in no document";
    } else {
      ADD_FAILURE() << route.method << " " << route.pattern << " is in no document";
    }
  }
  EXPECT_GT(documented, 30u);
}

// Every example body of every document (what the parsers accept) has no field the document
// does not declare, so the warning never fires on a valid request; and the fields a model does
// not have are named.
TEST(RoutesDocumented, UndeclaredFieldsAreExactlyTheOnesNoShapeOfTheModelHas) {
  size_t examples = 0;
  for (auto make : {dialects::skills_video::OpenApiDocument, dialects::unified::OpenApiDocument,
                    dialects::market::OpenApiDocument, dialects::dashscope::OpenApiDocument}) {
    const json doc = *make("");
    for (const auto& [path, operations] : doc["paths"].items()) {
      if (!operations.contains("post") || !operations["post"].contains("requestBody")) continue;
      const json& content = operations["post"]["requestBody"]["content"];
      if (!content.contains("application/json")) continue;
      const json& schema = content["application/json"]["schema"];
      for (const auto& shape : schema.contains("oneOf") ? schema["oneOf"] : json::array({schema})) {
        for (const auto& example : shape.value("examples", json::array())) {
          EXPECT_EQ(UndeclaredFields(doc, path, example), std::vector<std::string>{}) << path << " " << example;
          ++examples;
        }
      }
    }
  }
  EXPECT_GE(examples, 30u);

  const json unified = *dialects::unified::OpenApiDocument("");
  const json video = {{"model", "wan2.7-text-to-video"}, {"prompt", "p"}, {"resolution", "4k"}, {"quality", "1080p"}};
  EXPECT_EQ(UndeclaredFields(unified, "/v1/videos/generations", video), std::vector<std::string>{"resolution"});
  // Another model's field is not this model's.
  const json t2v_with_edit_field = {{"model", "wan2.7-text-to-video"}, {"prompt", "p"}, {"video_urls", {"https://a/b.mp4"}}};
  EXPECT_EQ(UndeclaredFields(unified, "/v1/videos/generations", t2v_with_edit_field),
            std::vector<std::string>{"video_urls"});
  // Maps take any key.
  const json voices = {{"model", "wan2.7-reference-video"}, {"prompt", "image1"}, {"image_urls", {"https://a/b.png"}},
                       {"model_params", {{"voice_bindings", {{"image1", "https://a/v.mp3"}}}}}};
  EXPECT_EQ(UndeclaredFields(unified, "/v1/videos/generations", voices), std::vector<std::string>{});
  const json market = *dialects::market::OpenApiDocument("");
  const json nested = {{"model", "wan/2-7-image"}, {"input", {{"prompt", "p"}, {"sizee", "2K"}}}, {"extra", 1}};
  EXPECT_EQ(UndeclaredFields(market, "/api/v1/jobs/createTask", nested),
            (std::vector<std::string>{"extra", "input.sizee"}));
}

}  // namespace
}  // namespace wanserve::api
