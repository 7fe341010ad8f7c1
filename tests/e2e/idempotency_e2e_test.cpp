// Idempotency-Key on the create endpoint of every dialect: a replay of the same request within
// 24 hours returns the same task and charges once, a reuse with another request is a 409 in
// the dialect's shape, and concurrent duplicates resolve to one task.
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "e2e_fixture.h"

namespace wanserve::e2e {
namespace {

// One dialect's create call and where its answer names the task.
struct Create {
  std::string name;
  std::string path;
  std::string body;
  std::string same_body_reworded;  // the same JSON value, spelled differently
  std::string other_body;
  std::vector<std::string> headers;
  std::function<std::string(const json&)> task_id;
};

std::vector<Create> Creates() {
  const std::string dashscope_body =
      R"({"model":"wan2.7-image","input":{"messages":[{"role":"user","content":[{"text":"red"}]}]},)"
      R"("parameters":{"size":"640*512"}})";
  return {
      {"skills_video", "/api/v1/generation/wan/wan-v2.7", R"({"prompt":"a cat"})", R"({ "prompt" : "a cat" })",
       R"({"prompt":"a dog"})", {}, [](const json& j) { return j.value("id", ""); }},
      {"unified", "/v1/images/generations", R"({"model":"wan-2.7-image","prompt":"a cat"})",
       R"({"prompt":"a cat","model":"wan-2.7-image"})", R"({"model":"wan-2.7-image","prompt":"a dog"})", {},
       [](const json& j) { return j.value("id", ""); }},
      {"market", "/api/v1/jobs/createTask", R"({"model":"wan/2-7-image","input":{"prompt":"a cat"}})",
       R"({"input":{"prompt":"a cat"},"model":"wan/2-7-image"})", R"({"model":"wan/2-7-image","input":{"prompt":"a dog"}})",
       {}, [](const json& j) { return j.contains("data") && j["data"].is_object() ? j["data"].value("taskId", "") : ""; }},
      {"dashscope", "/api/v1/services/aigc/image-generation/generation", dashscope_body,
       "\n" + dashscope_body + "\n",
       R"({"model":"wan2.7-image","input":{"messages":[{"role":"user","content":[{"text":"blue"}]}]},)"
       R"("parameters":{"size":"640*512"}})",
       {"X-DashScope-Async: enable"},
       [](const json& j) { return j.contains("output") ? j["output"].value("task_id", "") : ""; }},
  };
}

// On both backends: the key is recorded in the submit's transaction either way.
class IdempotencyE2E : public ServerTest, public ::testing::WithParamInterface<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "postgres") UsePostgres();
  }

  net::HttpResult Send(const Create& c, const std::string& body, const std::string& key,
                       const std::string& idempotency_key) {
    std::vector<std::string> headers = c.headers;
    headers.push_back("Authorization: Bearer " + key);
    headers.push_back("Content-Type: application/json");
    if (!idempotency_key.empty()) headers.push_back("Idempotency-Key: " + idempotency_key);
    return Call("POST", c.path, body, headers);
  }
};

TEST_P(IdempotencyE2E, AReplayReturnsTheSameTaskAndChargesOnceInEveryDialect) {
  StartServer();
  const std::string key = FundedKey(10'000);
  for (const Create& c : Creates()) {
    SCOPED_TRACE(c.name);
    const int64_t before = Credits(key)["total"];
    auto first = Send(c, c.body, key, "order-" + c.name);
    ASSERT_EQ(first.status, 200) << first.body;
    const std::string id = c.task_id(json::parse(first.body));
    ASSERT_FALSE(id.empty()) << first.body;
    const int64_t charged = before - Credits(key)["total"].get<int64_t>();
    EXPECT_GT(charged, 0);

    auto replay = Send(c, c.same_body_reworded, key, "order-" + c.name);
    ASSERT_EQ(replay.status, 200) << replay.body;
    EXPECT_EQ(c.task_id(json::parse(replay.body)), id) << "the same task, not a second one";
    EXPECT_EQ(before - Credits(key)["total"].get<int64_t>(), charged) << "charged once";

    auto without_key = Send(c, c.body, key, "");
    ASSERT_EQ(without_key.status, 200) << without_key.body;
    EXPECT_NE(c.task_id(json::parse(without_key.body)), id) << "no key, no replay";
  }
  ExpectLedgerClean();
}

TEST_P(IdempotencyE2E, AKeyReusedForAnotherRequestIs409InTheDialectsShape) {
  StartServer();
  const std::string key = FundedKey(10'000);
  for (const Create& c : Creates()) {
    SCOPED_TRACE(c.name);
    ASSERT_EQ(Send(c, c.body, key, "reused-" + c.name).status, 200);
    const int64_t before = Credits(key)["total"];
    auto reused = Send(c, c.other_body, key, "reused-" + c.name);
    const json j = json::parse(reused.body);
    if (c.name == "market") {
      EXPECT_EQ(j["code"], 409) << reused.body;
    } else {
      EXPECT_EQ(reused.status, 409) << reused.body;
    }
    ASSERT_TRUE(j.is_object()) << reused.body;
    const json code = c.name == "unified" ? j.value("error", json::object()).value("code", json()) : j.value("code", json());
    const std::map<std::string, json> expected = {{"unified", "idempotency_key_reused"},
                                                  {"dashscope", "IdempotentParameterMismatch"},
                                                  {"skills_video", "IMAGE_GENERATION_CONFLICT"},
                                                  {"market", 409}};
    EXPECT_EQ(code, expected.at(c.name)) << reused.body;
    EXPECT_EQ(Credits(key)["total"], before) << "nothing charged";
  }
  // Keys are per API key: another key may use the same value for its own task.
  const std::string other = FundedKey(10'000);
  EXPECT_EQ(Send(Creates().front(), Creates().front().other_body, other, "reused-skills_video").status, 200);
  // A malformed key is refused before anything happens.
  EXPECT_EQ(Send(Creates().front(), Creates().front().body, key, std::string(256, 'k')).status, 400);
  ExpectLedgerClean();
}

TEST_P(IdempotencyE2E, ConcurrentDuplicatesResolveToOneTask) {
  StartServer();
  const std::string key = FundedKey(10'000);
  const Create c = Creates()[1];
  const int64_t before = Credits(key)["total"];
  std::mutex mu;
  std::set<std::string> ids;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      auto r = Send(c, c.body, key, "race");
      if (r.status != 200) return;
      ++ok;
      std::lock_guard lock(mu);
      ids.insert(c.task_id(json::parse(r.body)));
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 8);
  EXPECT_EQ(ids.size(), 1u);
  const int64_t after_race = Credits(key)["total"];
  ASSERT_EQ(Send(c, c.body, key, "").status, 200);
  const int64_t one_task = after_race - Credits(key)["total"].get<int64_t>();
  EXPECT_EQ(before - after_race, one_task) << "eight racing duplicates were charged as one task";
  ExpectLedgerClean();
}

INSTANTIATE_TEST_SUITE_P(Backends, IdempotencyE2E, ::testing::Values("sqlite", "postgres"), ServerTest::BackendName);

}  // namespace
}  // namespace wanserve::e2e
