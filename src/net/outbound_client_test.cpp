#include "net/outbound_client.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "testing/loopback_http_server.h"
#include "testing/temp_dir.h"
#include "testing/test_pki.h"

namespace wanserve::net {
namespace {

using testing::LoopbackHttpServer;
using testing::ReceivedRequest;
using testing::ScriptedResponse;

// Names the tests' resolver knows; everything else is unknown.
Result<std::vector<IpAddress>> FakeDns(const std::string& host) {
  if (host == "rebind.test") return std::vector<IpAddress>{*ParseIp("127.0.0.2")};
  if (host == "metadata.test") return std::vector<IpAddress>{*ParseIp("169.254.169.254")};
  if (host == "mixed.test") return std::vector<IpAddress>{*ParseIp("93.184.216.34"), *ParseIp("10.0.0.1")};
  if (host == "v6internal.test") return std::vector<IpAddress>{*ParseIp("fd00::53")};
  if (host == "self.test") return std::vector<IpAddress>{*ParseIp("127.0.0.1")};
  Error e = MakeError(ErrorCode::kUnavailable, "unknown host " + host);
  e.detail_code = "dns_failed";
  return e;
}

class OutboundClientTest : public ::testing::Test {
 protected:
  OutboundClientTest()
      : pki_(testing::MakeTestPki(dir_.str())),
        // Listens on every loopback address; a hostile URL that got through would land here.
        trap_([](const ReceivedRequest&, int) { return ScriptedResponse{200, {}, "you should not see this"}; },
              nullptr, "::"),
        allowed_([this](const ReceivedRequest& r, int) { return Answer(r); }, nullptr, "127.0.0.1"),
        allowed_tls_([this](const ReceivedRequest& r, int) { return Answer(r); }, &pki_, "127.0.0.1") {}

  ScriptedResponse Answer(const ReceivedRequest& r) {
    const std::string trap = std::to_string(trap_.port());
    if (r.target == "/redirect-metadata") return {302, {{"Location", "http://169.254.169.254/latest/meta-data/"}}, ""};
    if (r.target == "/redirect-loopback") return {302, {{"Location", "http://127.0.0.2:" + trap + "/"}}, ""};
    if (r.target == "/redirect-decimal") return {301, {{"Location", "http://2130706434:" + trap + "/"}}, ""};
    if (r.target == "/redirect-rebind") return {307, {{"Location", "http://rebind.test:" + trap + "/"}}, ""};
    if (r.target == "/hop1") return {302, {{"Location", "/hop2"}}, ""};
    if (r.target == "/hop2") return {303, {{"Location", "/ok"}}, ""};
    if (r.target == "/loop") return {302, {{"Location", "/loop"}}, ""};
    if (r.target == "/big") return {200, {}, std::string(5000, 'x')};
    if (r.target == "/lying-length") {
      return ScriptedResponse::Raw("HTTP/1.1 200 OK\r\nContent-Length: 999999999\r\n\r\nshort");
    }
    if (r.target == "/slow") return {200, {}, "late", 3000};
    if (r.target == "/echo") return {201, {{"X-Seen", r.headers.count("x-test") ? r.headers.at("x-test") : ""}}, r.body};
    return {200, {{"Content-Type", "text/plain"}}, "ok"};
  }

  OutboundClient MakeClient(bool with_ca = true) {
    OutboundOptions options;
    options.allowlist = *ParseAllowList("127.0.0.1/32");
    options.resolver = FakeDns;
    if (with_ca) options.extra_ca_file = pki_.ca_file;
    return OutboundClient(options);
  }

  static Result<OutboundResponse> Get(OutboundClient& client, const std::string& url) {
    OutboundRequest request;
    request.url = url;
    request.timeout_ms = 5000;
    return client.Send(request);
  }

  testing::TempDir dir_;
  testing::TestPki pki_;
  LoopbackHttpServer trap_;
  LoopbackHttpServer allowed_;
  LoopbackHttpServer allowed_tls_;
};

TEST_F(OutboundClientTest, RefusesEveryHostileUrlWithoutConnecting) {
  const std::string p = std::to_string(trap_.port());
  const std::vector<std::string> hostile = {
      // loopback in every spelling
      "http://127.0.0.2:" + p + "/", "http://2130706434:" + p + "/", "http://0177.0.0.2:" + p + "/",
      "http://0x7f.0.0.2:" + p + "/", "http://0x7f000002:" + p + "/", "http://127.2:" + p + "/",
      "http://127.0.2:" + p + "/", "http://127.0.0.2.:" + p + "/", "http://[::1]:" + p + "/",
      "http://[::ffff:127.0.0.2]:" + p + "/", "http://[::ffff:7f00:2]:" + p + "/",
      "http://[0:0:0:0:0:ffff:127.0.0.2]:" + p + "/", "http://[::127.0.0.2]:" + p + "/",
      "http://localhost:" + p + "/", "http://api.localhost:" + p + "/", "http://LOCALHOST:" + p + "/",
      "http://user@127.0.0.2:" + p + "/", "http://127.0.0.1:80@127.0.0.2:" + p + "/",
      // unspecified (reaches the local host on Linux)
      "http://0.0.0.0:" + p + "/", "http://0:" + p + "/", "http://[::]:" + p + "/",
      // private, shared, link-local and metadata, multicast, reserved
      "http://10.0.0.1/", "http://10.255.255.254/", "http://172.16.0.1/", "http://172.31.255.254/",
      "http://192.168.1.1/", "http://100.64.0.1/", "http://169.254.169.254/latest/meta-data/",
      "http://0251.0376.0251.0376/", "http://2852039166/", "http://224.0.0.1/", "http://240.0.0.1/",
      "http://255.255.255.255/",
      // IPv6 internal ranges and forms that carry an internal IPv4 address
      "http://[fe80::1]/", "http://[fc00::1]/", "http://[fd12:3456::1]/", "http://[ff02::1]/",
      "http://[64:ff9b::a9fe:a9fe]/", "http://[2002:a9fe:a9fe::1]/", "http://[::ffff:a9fe:a9fe]/",
      // names that resolve to internal addresses
      "http://rebind.test:" + p + "/", "http://metadata.test/", "http://mixed.test/", "http://v6internal.test/",
      // redirects from an allowed server to internal addresses
      allowed_.Url("/redirect-metadata"), allowed_.Url("/redirect-loopback"), allowed_.Url("/redirect-decimal"),
      allowed_.Url("/redirect-rebind"),
  };
  ASSERT_GE(hostile.size(), 30u);
  OutboundClient client = MakeClient();
  for (const auto& url : hostile) {
    auto r = Get(client, url);
    ASSERT_FALSE(r.ok()) << url << " was fetched";
    EXPECT_EQ(r.error().code, ErrorCode::kForbidden) << url << ": " << r.error().message;
    EXPECT_EQ(r.error().detail_code, "address_blocked") << url << ": " << r.error().message;
  }
  EXPECT_EQ(trap_.Connections(), 0);
  EXPECT_EQ(allowed_.Connections(), 4);  // only the four redirecting origins
}

TEST_F(OutboundClientTest, RefusesOtherSchemesAndBrokenUrls) {
  OutboundClient client = MakeClient();
  for (const char* url : {"ftp://example.com/x", "file:///etc/passwd", "gopher://127.0.0.1:70/", "dict://127.0.0.1:11211/"}) {
    auto r = Get(client, url);
    ASSERT_FALSE(r.ok()) << url;
    EXPECT_TRUE(r.error().detail_code == "scheme_not_allowed" || r.error().detail_code == "bad_url") << url;
  }
  for (const char* url : {"", "not a url", "http://", "http://[::1"}) {
    auto r = Get(client, url);
    ASSERT_FALSE(r.ok()) << url;
    EXPECT_EQ(r.error().detail_code, "bad_url") << url;
  }
  OutboundRequest plain;
  plain.url = allowed_.Url("/ok");
  plain.require_https = true;
  auto r = client.Send(plain);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().detail_code, "scheme_not_allowed");
}

TEST_F(OutboundClientTest, CheckUrlJudgesLiteralsWithoutTheNetwork) {
  OutboundClient client = MakeClient();
  EXPECT_TRUE(client.CheckUrl("https://example.com/hook", true).ok());
  EXPECT_TRUE(client.CheckUrl(allowed_tls_.Url("/hook"), true).ok());
  EXPECT_EQ(client.CheckUrl("https://0x0a000001/hook", true).error().detail_code, "address_blocked");
  EXPECT_EQ(client.CheckUrl("https://localhost/hook", true).error().detail_code, "address_blocked");
  EXPECT_EQ(client.CheckUrl("http://example.com/hook", true).error().detail_code, "scheme_not_allowed");
  EXPECT_EQ(client.CheckUrl("https://[::ffff:0:127.0.0.1]:9/hook", true).error().detail_code, "address_blocked");
  EXPECT_EQ(trap_.Connections() + allowed_.Connections() + allowed_tls_.Connections(), 0);
  // Without a client: the same judgement for URLs set by an operator (account webhooks).
  const AddressPolicy none;
  EXPECT_EQ(CheckUrlWhenSet("https://169.254.169.254/latest", true, none).error().detail_code, "address_blocked");
  EXPECT_TRUE(CheckUrlWhenSet("https://hooks.example.com/x", true, none).ok());
  EXPECT_TRUE(CheckUrlWhenSet("https://10.1.2.3/x", true, AddressPolicy(*ParseAllowList("10.1.0.0/16"))).ok());
}

// An allowlist entry with a port opens that port only; one with a name opens what the name
// resolves to, for URLs naming it. Checked at every connection, redirects included.
TEST_F(OutboundClientTest, AllowlistEntriesWithAPortOrANameOpenOnlyThat) {
  const std::string port = std::to_string(allowed_.port()), trap = std::to_string(trap_.port());
  OutboundOptions options;
  options.allowlist = *ParseAllowList("127.0.0.1:" + port + ", self.test:" + port);
  options.resolver = FakeDns;
  OutboundClient client(options);
  auto direct = Get(client, "http://127.0.0.1:" + port + "/ok");
  ASSERT_TRUE(direct.ok()) << direct.error().message;
  EXPECT_EQ(direct->body, "ok");
  auto named = Get(client, "http://self.test:" + port + "/ok");
  ASSERT_TRUE(named.ok()) << named.error().message;
  EXPECT_EQ(named->remote_ip, "127.0.0.1");
  EXPECT_TRUE(client.CheckUrl("http://self.test:" + port + "/hook", false).ok());
  for (const std::string& url : {"http://127.0.0.1:" + trap + "/", "http://self.test:" + trap + "/",
                                 "http://rebind.test:" + port + "/", "http://localhost:" + port + "/",
                                 "http://[::1]:" + trap + "/", allowed_.Url("/redirect-loopback")}) {
    auto r = Get(client, url);
    ASSERT_FALSE(r.ok()) << url << " was fetched";
    EXPECT_EQ(r.error().detail_code, "address_blocked") << url << ": " << r.error().message;
  }
  EXPECT_EQ(client.CheckUrl("http://127.0.0.1:" + trap + "/hook", false).error().detail_code, "address_blocked");
  EXPECT_EQ(trap_.Connections(), 0);
}

TEST_F(OutboundClientTest, FetchesOverTlsTrustingTheExtraCa) {
  OutboundClient client = MakeClient();
  auto r = Get(client, allowed_tls_.Url("/ok"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "ok");
  EXPECT_EQ(r->headers["content-type"], "text/plain");
  EXPECT_EQ(r->remote_ip, "127.0.0.1");
  // A name pinned to the checked address still verifies the certificate against that name.
  auto named = Get(client, "https://self.test:" + std::to_string(allowed_tls_.port()) + "/ok");
  ASSERT_FALSE(named.ok());
  EXPECT_EQ(named.error().detail_code, "tls_failed");
}

TEST_F(OutboundClientTest, NeverSkipsCertificateVerification) {
  OutboundClient client = MakeClient(/*with_ca=*/false);
  auto r = Get(client, allowed_tls_.Url("/ok"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().detail_code, "tls_failed");
}

TEST_F(OutboundClientTest, FollowsAtMostThreeRedirects) {
  OutboundClient client = MakeClient();
  auto r = Get(client, allowed_.Url("/hop1"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->body, "ok");
  EXPECT_EQ(r->url, allowed_.Url("/ok"));
  auto loop = Get(client, allowed_.Url("/loop"));
  ASSERT_FALSE(loop.ok());
  EXPECT_EQ(loop.error().detail_code, "too_many_redirects");
}

TEST_F(OutboundClientTest, CapsTheBodyWhileReading) {
  OutboundClient client = MakeClient();
  OutboundRequest request;
  request.url = allowed_.Url("/big");
  request.max_body_bytes = 1000;
  auto big = client.Send(request);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.error().detail_code, "too_large");
  request.url = allowed_.Url("/lying-length");
  auto lying = client.Send(request);
  ASSERT_FALSE(lying.ok());
  EXPECT_EQ(lying.error().detail_code, "too_large");
}

TEST_F(OutboundClientTest, TimesOut) {
  OutboundClient client = MakeClient();
  OutboundRequest request;
  request.url = allowed_.Url("/slow");
  request.timeout_ms = 300;
  auto r = client.Send(request);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().detail_code, "timeout");
}

TEST_F(OutboundClientTest, PostsBodyAndHeadersAndIgnoresProxyEnvironment) {
  setenv("http_proxy", "http://10.9.9.9:3128", 1);
  setenv("HTTPS_PROXY", "http://10.9.9.9:3128", 1);
  OutboundClient client = MakeClient();
  OutboundRequest request;
  request.method = "POST";
  request.url = allowed_.Url("/echo");
  request.headers = {{"X-Test", "yes"}, {"Content-Type", "application/json"}};
  request.body = R"({"a":1})";
  auto r = client.Send(request);
  unsetenv("http_proxy");
  unsetenv("HTTPS_PROXY");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(r->body, R"({"a":1})");
  EXPECT_EQ(r->headers["x-seen"], "yes");
}

TEST_F(OutboundClientTest, RunsManyTransfersAtOnce) {
  OutboundClient client = MakeClient();
  std::mutex mu;
  std::condition_variable cv;
  int done = 0, ok = 0;
  for (int i = 0; i < 40; ++i) {
    OutboundRequest request;
    request.url = allowed_.Url("/ok");
    client.Start(request, [&](Result<OutboundResponse> r) {
      std::lock_guard lock(mu);
      ++done;
      ok += r.ok() && r->status == 200;
      cv.notify_all();
    });
  }
  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(20), [&] { return done == 40; }));
  EXPECT_EQ(ok, 40);
}

}  // namespace
}  // namespace wanserve::net
