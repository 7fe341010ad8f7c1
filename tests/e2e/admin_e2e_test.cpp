// The operator's HTTP API: an admin token made with `wanserve admin tokens create` sets up an
// account, credits and a key that a client then uses, and checks the ledger.
#include "e2e_fixture.h"

namespace wanserve::e2e {
namespace {

class AdminE2E : public ServerTest {
 protected:
  void SetUp() override {
    StartServer();
    auto made = testing::RunCommand({testing::WanserveBinary(), "admin", "tokens", "create", "--data", data_dir_,
                                     "--name", "ops"});
    ASSERT_EQ(made.exit_code, 0) << made.err;
    token_ = testing::LastLine(made.out);
  }
  json Admin(const std::string& method, const std::string& path, const std::string& body, int expect_status) {
    auto r = Authed(method, path, body, token_);
    EXPECT_EQ(r.status, expect_status) << method << " " << path << ": " << r.body;
    return json::parse(r.body);
  }
  std::string token_;
};

TEST_F(AdminE2E, AnOperatorFundsAnAccountAndIssuesAKeyThatAClientUses) {
  json account = Admin("POST", "/admin/v1/accounts",
                       R"({"name":"acme","subscription_credits":30,"subscription_expires":"2099-01-01T00:00:00Z",
                           "permanent_credits":100,"max_concurrent":4})", 201);
  const std::string id = account["id"];
  EXPECT_EQ(account["subscription_credits"], 30);
  EXPECT_EQ(account["permanent_credits"], 100);
  EXPECT_EQ(account["available_credits"], 130);
  EXPECT_EQ(account["max_concurrent"], 4);

  json granted = Admin("POST", "/admin/v1/accounts/" + id + "/grants",
                       R"({"permanent_credits":50,"reason":"support credit"})", 200);
  EXPECT_EQ(granted["permanent_credits"], 150);

  json key = Admin("POST", "/admin/v1/keys", json{{"account_id", id}, {"name", "app"}, {"credit_cap", 500}}.dump(), 201);
  const std::string secret = key["key"];
  EXPECT_EQ(key["role"], "client");
  EXPECT_EQ(key["credit_cap"], 500);
  auto submitted = Authed("POST", "/api/v1/generation/wan/wan-v2.7", R"({"prompt":"x"})", secret);
  ASSERT_EQ(submitted.status, 200) << submitted.body;
  WaitDone(json::parse(submitted.body)["id"], 120, secret);

  json after = Admin("GET", "/admin/v1/accounts/" + id, "", 200);
  EXPECT_EQ(after["subscription_credits"], 10) << "one 20-credit image, subscription first";
  EXPECT_EQ(after["spent_credits"], 20);
  json listed = Admin("GET", "/admin/v1/accounts", "", 200);
  EXPECT_EQ(listed["data"].size(), 2u) << "the default account and acme";
  json keys = Admin("GET", "/admin/v1/keys", "", 200);
  bool saw_admin = false;
  for (const auto& k : keys["data"]) {
    EXPECT_FALSE(k.contains("key")) << "secrets are shown once, never listed";
    saw_admin = saw_admin || k["role"] == "admin";
  }
  EXPECT_TRUE(saw_admin);

  Admin("POST", "/admin/v1/keys/" + key["id"].get<std::string>() + "/revoke", "", 200);
  EXPECT_EQ(Authed("POST", "/api/v1/generation/wan/wan-v2.7", R"({"prompt":"x"})", secret).status, 401);
  json check = Admin("GET", "/admin/v1/ledger/check", "", 200);
  EXPECT_EQ(check["consistent"], true) << check.dump();
  ExpectLedgerClean();
}

TEST_F(AdminE2E, EachCredentialOpensOnlyItsOwnRoutes) {
  auto none = Call("GET", "/admin/v1/accounts");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(json::parse(none.body)["error"]["code"], "unauthorized");
  auto client = Authed("GET", "/admin/v1/accounts", "", key_);
  EXPECT_EQ(client.status, 403) << "an API key is not an admin token";
  EXPECT_EQ(json::parse(client.body)["error"]["code"], "forbidden");
  auto generation = Authed("POST", "/v1/images/generations", R"({"model":"wan-2.7-image","prompt":"x"})", token_);
  EXPECT_EQ(generation.status, 401) << "an admin token does not pay for tasks";
  EXPECT_EQ(json::parse(generation.body)["error"]["code"], "unauthorized");
  EXPECT_EQ(Authed("GET", "/admin/v1/accounts", "", "wsa_wrong").status, 401);
}

TEST_F(AdminE2E, BadRequestsNameTheFieldAndChangeNothing) {
  auto bad = [&](const std::string& path, const std::string& body, int status, const std::string& code) {
    json e = Admin("POST", path, body, status);
    EXPECT_EQ(e["error"]["code"], code) << path << " " << body << " -> " << e.dump();
    return e;
  };
  bad("/admin/v1/accounts", "{not json", 400, "invalid_input");
  json e = bad("/admin/v1/accounts", R"({"name":"x","subscription_credits":10})", 400, "invalid_input");
  EXPECT_EQ(e["error"]["field"], "subscription_expires");
  e = bad("/admin/v1/accounts", R"({"name":"x","permanent_credits":-1})", 400, "invalid_input");
  EXPECT_EQ(e["error"]["field"], "permanent_credits");
  bad("/admin/v1/accounts", R"({"name":"x","subscription_credits":1,"subscription_expires":"soon"})", 400,
      "invalid_input");
  bad("/admin/v1/accounts", R"({"name":"x","webhook_url":"http://plain.example"})", 400, "invalid_input");
  // Internal addresses are refused when the webhook is set, not only when it is called.
  e = bad("/admin/v1/accounts", R"({"name":"x","webhook_url":"https://169.254.169.254/latest"})", 400,
          "invalid_input");
  EXPECT_EQ(e["error"]["field"], "webhook_url");
  bad("/admin/v1/accounts/acct_default/webhook", R"({"url":"https://[::ffff:0:127.0.0.1]:8443/x"})", 400,
      "invalid_input");
  auto cli = testing::RunCommand({testing::WanserveBinary(), "admin", "accounts", "set-webhook", "--data", data_dir_,
                                  "acct_default", "--url", "https://10.0.0.7/hook"});
  EXPECT_EQ(cli.exit_code, 1) << cli.out;
  EXPECT_NE(cli.err.find("private address"), std::string::npos) << cli.err;
  cli = testing::RunCommand({testing::WanserveBinary(), "admin", "accounts", "set-webhook", "--data", data_dir_,
                             "acct_default", "--url", "https://10.0.0.7/hook", "--allow-network", "10.0.0.0/24"});
  EXPECT_EQ(cli.exit_code, 0) << cli.err;
  bad("/admin/v1/accounts", R"({"name":""})", 400, "invalid_input");
  Admin("POST", "/admin/v1/accounts", R"({"name":"dup"})", 201);
  bad("/admin/v1/accounts", R"({"name":"dup"})", 409, "conflict");
  bad("/admin/v1/accounts/acct_nope/grants", R"({"permanent_credits":5,"reason":"x"})", 404, "not_found");
  json accounts = Admin("GET", "/admin/v1/accounts", "", 200);
  const std::string dup = accounts["data"].back()["id"];
  bad("/admin/v1/accounts/" + dup + "/grants", R"({"permanent_credits":5})", 400, "invalid_input");
  bad("/admin/v1/accounts/" + dup + "/grants", R"({"reason":"nothing"})", 400, "invalid_input");
  bad("/admin/v1/keys", R"({"account_id":"acct_nope"})", 404, "not_found");
  bad("/admin/v1/keys", R"({"rpm":-3})", 400, "invalid_input");
  EXPECT_EQ(Admin("GET", "/admin/v1/accounts/" + dup, "", 200)["permanent_credits"], 0);
  EXPECT_EQ(Admin("GET", "/admin/v1/accounts", "", 200)["data"].size(), 2u) << "no half-made accounts";
  ExpectLedgerClean();
}

}  // namespace
}  // namespace wanserve::e2e
