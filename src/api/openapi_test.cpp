#include "api/openapi.h"

#include <gtest/gtest.h>

#include "api/dialects/unified/internal.h"

namespace wanserve::api {
namespace {

using nlohmann::json;

// A parser of a made-up body, through the Fields accessors every dialect uses.
Status ParseSample(const json& body) {
  dialects::Fields f(body);
  RETURN_IF_ERROR(f.RequiredString("prompt", 1, 100));
  RETURN_IF_ERROR(f.IntOr("n", 1, 1, 4));
  ASSIGN_OR_RETURN(auto name, f.Pick({"audio_urls", "audio_url"}));
  if (!name.empty()) RETURN_IF_ERROR(f.UrlList(name, 0, 2));
  auto input = body.find("input");
  if (input != body.end()) {
    dialects::Fields in(*input, "input.");
    RETURN_IF_ERROR(in.EnumOr("ratio", "16:9", {"16:9", "1:1"}));
  }
  return Status::Ok();
}

TEST(OpenApi, ASchemaIsWhatTheParserEnforced) {
  auto schema = RequestSchema({{"sample",
                                {{"prompt", "x"}},
                                ParseSample,
                                json::object(),
                                "",
                                {{{"prompt", "y"}, {"audio_url", "https://example.com/a.mp3"}, {"input", json::object()}}}}});
  ASSERT_TRUE(schema.ok()) << schema.error().message;
  const json& p = (*schema)["properties"];
  EXPECT_EQ((*schema)["required"], json::array({"prompt"}));
  EXPECT_EQ(p["prompt"], json({{"type", "string"}, {"minLength", 1}, {"maxLength", 100}}));
  EXPECT_EQ(p["n"], json({{"type", "integer"}, {"minimum", 1}, {"maximum", 4}, {"default", 1}}));
  // Read under its alias, documented under its canonical name, the alias beside it.
  EXPECT_EQ(p["audio_urls"]["oneOf"][1]["maxItems"], 2);
  EXPECT_EQ(p["audio_url"]["description"], "another name for audio_urls");
  EXPECT_EQ(p["input"]["properties"]["ratio"], json({{"type", "string"}, {"enum", {"16:9", "1:1"}}, {"default", "16:9"}}));
  EXPECT_EQ((*schema)["examples"][0], json({{"prompt", "x"}}));
}

TEST(OpenApi, AnExampleTheParserRefusesIsAnError) {
  auto schema = RequestSchema({{"broken", {{"prompt", ""}}, ParseSample}});
  ASSERT_FALSE(schema.ok());
  EXPECT_NE(schema.error().message.find("prompt"), std::string::npos);
}

TEST(OpenApi, TheUnifiedDocumentStatesTheParsersRanges) {
  auto doc = dialects::unified::OpenApiDocument("http://127.0.0.1:8080");
  ASSERT_TRUE(doc.ok()) << doc.error().message;
  const json& videos =
      (*doc)["paths"]["/v1/videos/generations"]["post"]["requestBody"]["content"]["application/json"]["schema"]["oneOf"];
  ASSERT_EQ(videos.size(), 4u);
  EXPECT_EQ(videos[0]["properties"]["duration"],
            json({{"type", "integer"}, {"minimum", 2}, {"maximum", 15}, {"default", 5}}));
  EXPECT_EQ(videos[0]["properties"]["callback_url"]["pattern"], "^https://");
  EXPECT_EQ(videos[3]["properties"]["duration"]["minimum"], 0) << "an edit may keep its input's length";
}

}  // namespace
}  // namespace wanserve::api
