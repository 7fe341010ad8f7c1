// The API documents: valid OpenAPI 3.1 (swagger-parser), and every range, length, size and
// enum they state is what the server enforces: each boundary body is judged by the document's
// schema (ajv) and by the server, and both agree.
#include <fmt/format.h>

#include <fstream>
#include <algorithm>
#include <set>

#include "e2e_fixture.h"
#include "testing/node_tools.h"

namespace wanserve::e2e {
namespace {

struct Case {
  json body;
  std::string field;  // the field the case is about, dotted ("input.duration")
  bool valid = false;
};

// "input.duration" as the JSON pointer "/input/duration". (Not std::regex: GCC 12 warns inside
// it under the sanitizers.)
json::json_pointer PointerOf(std::string field) {
  std::replace(field.begin(), field.end(), '.', '/');
  return json::json_pointer("/" + field);
}

// Boundary bodies of one request-body shape: each field's limits, just inside and just outside
// (nested objects included).
void AddBoundaryCases(const json& example, const json& object_schema, const std::string& prefix,
                      std::vector<Case>& cases) {
  for (const auto& [name, s] : object_schema["properties"].items()) {
    const std::string field = prefix + name;
    if (field == "model") continue;
    const json::json_pointer at = PointerOf(field);
    // An alias is sent in place of its canonical name, not beside it.
    const std::string alias_of = s.value("description", "").starts_with("another name for ")
                                     ? s["description"].get<std::string>().substr(17)
                                     : "";
    auto with = [&](json value, bool valid) {
      json body = example;
      if (!alias_of.empty()) body[at.parent_pointer()].erase(alias_of);
      body[at] = std::move(value);
      cases.push_back({std::move(body), field, valid});
    };
    if (s.value("type", "") == "object" && s.contains("properties")) {
      AddBoundaryCases(example, s, field + ".", cases);
      continue;
    }
    if (s.contains("minimum")) {
      with(s["minimum"], true);
      with(s["minimum"].get<int64_t>() - 1, false);
    }
    if (s.contains("maximum")) {
      with(s["maximum"], true);
      with(s["maximum"].get<int64_t>() + 1, false);
    }
    if (s.contains("enum")) {
      for (const auto& value : s["enum"]) with(value, true);
      with("not-one-of-them", false);
    }
    if (s.value("type", "") == "string" && s.contains("maxLength") && !s.contains("format") && !s.contains("pattern")) {
      with(std::string(s["maxLength"].get<size_t>(), 'x'), true);
      with(std::string(s["maxLength"].get<size_t>() + 1, 'x'), false);
    }
    if (s.value("format", "") == "uri" && s.contains("maxLength")) {
      const std::string base = s.contains("pattern") ? "https://example.com/" : "http://example.com/";
      const size_t limit = s["maxLength"].get<size_t>();
      with(base + std::string(limit - base.size(), 'a'), true);
      with(base + std::string(limit - base.size() + 1, 'a'), false);
      if (s.contains("pattern")) with("http://example.com/hook", false);
    }
    if (s.value("type", "") == "array" && s.contains("maxItems")) {
      const size_t over = s["maxItems"].get<size_t>() + 1;
      with(json(std::vector<std::string>(over, "https://example.com/x.png")), false);
    }
    if (s.value("type", "") == "boolean") with("yes", false);
  }
}

// What a refusal names, in each dialect's error shape: unified's error.param, the field that
// begins the message of the others (DashScope's and skills.video's message, kie's msg under a
// code other than 200). Empty when the body was taken.
std::string Refusal(const net::HttpResult& answer) {
  const json body = json::parse(answer.body, nullptr, false);
  if (!body.is_object()) return answer.status >= 400 ? "?" : "";
  if (answer.status == 200 && (!body.contains("code") || body["code"] == 200 || body["code"].is_string())) return "";
  if (answer.status < 400 && answer.status != 200) return "";
  if (body.contains("error") && body["error"].is_object()) return body["error"].value("param", "?");
  const std::string text = body.contains("message") ? body.value("message", "") : body.value("msg", "");
  return text.empty() ? "?" : text;
}

bool Names(const std::string& refusal, const std::string& field) {
  return refusal == field || refusal.starts_with(field + ":") || refusal.starts_with(field + "[");
}

class OpenApiE2E : public ServerTest {
 protected:
  void SetUp() override {
    if (!testing::NodeToolsAvailable()) GTEST_SKIP() << "Node.js or tests/node/node_modules missing (scripts/bootstrap.sh)";
  }

  std::string SaveDocument(const std::string& url_path) {
    auto doc = Call("GET", url_path);
    EXPECT_EQ(doc.status, 200);
    const std::string path = (dir_.path() / "document.json").string();
    std::ofstream(path) << doc.body;
    return path;
  }
};

TEST_F(OpenApiE2E, TheIndexNamesTheDocumentsAndEachIsValidOpenApi) {
  StartServer();
  auto index = Call("GET", "/openapi");
  ASSERT_EQ(index.status, 200);
  const json documents = json::parse(index.body)["documents"];
  ASSERT_FALSE(documents.empty());
  for (const auto& entry : documents) {
    const std::string file = SaveDocument(entry["url"]);
    const auto check = testing::RunCommand({"node", testing::NodeScript("openapi_check.js"), file});
    EXPECT_EQ(check.exit_code, 0) << entry["url"] << ": " << check.out << check.err;
    EXPECT_TRUE(check.out.starts_with("valid")) << check.out;
    const json doc = json::parse(std::ifstream(file));
    EXPECT_EQ(doc["openapi"], "3.1.0");
    EXPECT_EQ(doc["servers"][0]["url"], server_->base_url()) << "documents name the server that serves them";
  }
}

TEST_F(OpenApiE2E, EveryLimitADocumentStatesIsTheServersOwn) {
  StartServer();
  const std::string key = FundedKey(100'000'000);
  size_t checked = 0;
  const json index = json::parse(Call("GET", "/openapi").body);
  for (const auto& entry : index["documents"]) {
    const std::string file = SaveDocument(entry["url"]);
    const json doc = json::parse(std::ifstream(file));
    for (const auto& [path, operations] : doc["paths"].items()) {
      if (!operations.contains("post") || path.find("/sse/") != std::string::npos) continue;
      const json& post = operations["post"];
      if (!post.contains("requestBody") || !post["requestBody"]["content"].contains("application/json")) continue;
      // Headers the operation requires, at the first value their schema allows.
      std::vector<std::string> headers = {"Authorization: Bearer " + key};
      for (const auto& parameter : post.value("parameters", json::array())) {
        if (parameter["in"] == "header" && parameter.value("required", false)) {
          headers.push_back(parameter["name"].get<std::string>() + ": " + parameter["schema"]["enum"][0].get<std::string>());
        }
      }
      const json schema = post["requestBody"]["content"]["application/json"]["schema"];
      const json shapes = schema.contains("oneOf") ? schema["oneOf"] : json::array({schema});
      for (const auto& shape : shapes) {
        if (!shape.contains("examples")) continue;  // a body not written from a parser
        std::vector<Case> cases;
        AddBoundaryCases(shape["examples"][0], shape, "", cases);
        ASSERT_FALSE(cases.empty()) << path << " " << shape["title"];
        // The document's own verdicts.
        json bodies = json::array();
        for (const auto& c : cases) bodies.push_back(c.body);
        const std::string bodies_file = (dir_.path() / "bodies.json").string();
        std::ofstream(bodies_file) << bodies.dump();
        const auto judged =
            testing::RunCommand({"node", testing::NodeScript("schema_check.js"), file, path, "post", bodies_file});
        ASSERT_EQ(judged.exit_code, 0) << judged.err;
        const json verdicts = json::parse(judged.out);
        for (size_t i = 0; i < cases.size(); ++i) {
          const Case& c = cases[i];
          const std::string what =
              fmt::format("{} {} {}: {}", path, shape.value("title", ""), c.field,
                          c.body[PointerOf(c.field)]
                              .dump()
                              .substr(0, 80));
          EXPECT_EQ(verdicts[i].get<bool>(), c.valid) << "the document, on " << what;
          // The server's: a value outside a limit is refused naming its field; one inside is never
          // refused for that field (a rule across fields may still refuse the body for another).
          const std::string refusal = Refusal(Call("POST", path, c.body.dump(), headers));
          if (c.valid) {
            EXPECT_FALSE(Names(refusal, c.field)) << "the server, on " << what << ": " << refusal;
          } else {
            EXPECT_TRUE(Names(refusal, c.field)) << "the server, on " << what << ": " << refusal;
          }
          ++checked;
        }
      }
    }
  }
  EXPECT_GT(checked, 200u);
}

TEST_F(OpenApiE2E, TheModelListNamesWhoMakesEachModelHereAndItsPrice) {
  StartServer();
  auto models = Authed("GET", "/v1/models");
  ASSERT_EQ(models.status, 200) << models.body;
  const json list = json::parse(models.body);
  EXPECT_EQ(list["object"], "list");
  std::set<std::string> ids;
  for (const auto& m : list["data"]) {
    ids.insert(m["id"]);
    ASSERT_FALSE(m["served_by"].empty()) << m.dump();
    EXPECT_EQ(m["served_by"][0]["provider"], "testpattern");
    EXPECT_TRUE(m["served_by"][0]["test_only"].get<bool>());
    EXPECT_GT(m["example_price_credits"].get<int64_t>(), 0);
  }
  for (const char* id : {"wan-2.7-image", "wan-2.7-image-pro", "wan2.7-text-to-video", "wan2.7-image-to-video",
                         "wan2.7-i2v", "wan2.7-reference-video", "wan2.7-video-edit"}) {
    EXPECT_TRUE(ids.count(id)) << id;
  }
  EXPECT_EQ(Call("GET", "/v1/models").status, 401) << "the list is a client's, behind a key";
}

}  // namespace
}  // namespace wanserve::e2e
