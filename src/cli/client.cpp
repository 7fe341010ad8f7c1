#include "cli/client.h"
#include "cli/flag_or_env.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

#include "net/http_client.h"

namespace wanserve::cli {
namespace {

using nlohmann::json;

struct ClientArgs {
  std::string server;  // --server, else WANSERVE_SERVER, else http://127.0.0.1:8080
  std::string key;     // --key, else WANSERVE_API_KEY
  std::string dialect = "unified";
  std::string model;
  std::string prompt;
  std::vector<std::string> sets;
  bool wait = false;
  std::string out = ".";
  std::string id;
  double timeout_s = 900;
  std::string file;
};

// What a poll of one task tells, whatever the dialect.
struct Snapshot {
  std::string state;  // the dialect's own status text
  int progress = 0;
  bool done = false;
  bool success = false;
  std::vector<std::string> urls;
  std::string error;
};

std::string DialectOf(const std::string& id) {
  if (id.rfind("gen_", 0) == 0) return "skills_video";
  if (id.rfind("task-unified-", 0) == 0) return "unified";
  return "market";
}

Result<json> Call(const ClientArgs& a, const std::string& method, const std::string& path, const std::string& body) {
  net::HttpCall call{method, a.server + path,
                     {"Authorization: Bearer " + a.key, "Content-Type: application/json"}, body, 30'000};
  ASSIGN_OR_RETURN(auto res, net::Fetch(call));
  json j = json::parse(res.body, nullptr, false);
  if (j.is_discarded()) return MakeError(ErrorCode::kInternal, fmt::format("HTTP {}: {}", res.status, res.body));
  if (res.status >= 400 || (j.is_object() && j.contains("code") && j["code"].is_number() && j["code"] != 200)) {
    return MakeError(ErrorCode::kInvalidInput, fmt::format("HTTP {}: {}", res.status, j.dump()));
  }
  return j;
}

json ParseSetValue(const std::string& v) {
  json j = json::parse(v, nullptr, false);
  return j.is_discarded() ? json(v) : j;
}

Result<std::string> Submit(const ClientArgs& a) {
  json fields = {{"prompt", a.prompt}};
  for (const auto& s : a.sets) {
    auto eq = s.find('=');
    if (eq == std::string::npos) return MakeError(ErrorCode::kInvalidInput, "--set takes key=value: " + s);
    fields[s.substr(0, eq)] = ParseSetValue(s.substr(eq + 1));
  }
  if (a.dialect == "unified") {
    fields["model"] = a.model;
    const bool video = a.model.find("video") != std::string::npos;
    ASSIGN_OR_RETURN(json r, Call(a, "POST", video ? "/v1/videos/generations" : "/v1/images/generations", fields.dump()));
    return r.at("id").get<std::string>();
  }
  if (a.dialect == "skills_video") {
    ASSIGN_OR_RETURN(json r, Call(a, "POST", "/api/v1/generation/wan/" + a.model, fields.dump()));
    return r.at("id").get<std::string>();
  }
  if (a.dialect == "market") {
    json body = {{"model", a.model}, {"input", fields}};
    ASSIGN_OR_RETURN(json r, Call(a, "POST", "/api/v1/jobs/createTask", body.dump()));
    return r.at("data").at("taskId").get<std::string>();
  }
  return MakeError(ErrorCode::kInvalidInput, "unknown dialect " + a.dialect + " (unified, skills_video, market)");
}

Result<std::pair<json, Snapshot>> Poll(const ClientArgs& a, const std::string& id) {
  Snapshot s;
  const std::string dialect = DialectOf(id);
  if (dialect == "unified") {
    ASSIGN_OR_RETURN(json r, Call(a, "GET", "/v1/tasks/" + id, ""));
    s.state = r.value("status", "");
    s.progress = r.value("progress", 0);
    s.done = s.state == "completed" || s.state == "failed";
    s.success = s.state == "completed";
    if (r.contains("results")) s.urls = r["results"].get<std::vector<std::string>>();
    if (r.contains("error")) s.error = r["error"].dump();
    return std::make_pair(r, s);
  }
  if (dialect == "skills_video") {
    ASSIGN_OR_RETURN(json r, Call(a, "GET", "/api/v1/generation/" + id, ""));
    s.state = r.value("status", "");
    s.progress = r.value("progress", 0);
    s.done = s.state == "COMPLETED" || s.state == "FAILED" || s.state == "CANCELED";
    s.success = s.state == "COMPLETED";
    if (s.success) {
      const auto& d = r["data"];
      for (const auto& item : d.contains("videos") ? d["videos"] : d["images"]) s.urls.push_back(item["url"]);
    }
    if (r.contains("code")) s.error = r.value("code", "") + ": " + r.value("message", "");
    return std::make_pair(r, s);
  }
  ASSIGN_OR_RETURN(json r, Call(a, "GET", "/api/v1/jobs/recordInfo?taskId=" + id, ""));
  const auto& d = r["data"];
  s.state = d.value("state", "");
  s.progress = d.value("progress", 0);
  s.done = s.state == "success" || s.state == "fail";
  s.success = s.state == "success";
  if (s.success) s.urls = json::parse(d["resultJson"].get<std::string>())["resultUrls"].get<std::vector<std::string>>();
  if (s.state == "fail") s.error = d.value("failCode", "") + ": " + d.value("failMsg", "");
  return std::make_pair(r, s);
}

void DrawBar(const std::string& id, const Snapshot& s) {
  const int width = 30;
  const int filled = s.progress * width / 100;
  fmt::print(stderr, "\r{} [{}{}] {:3}% {:<12}", id, std::string(filled, '#'), std::string(width - filled, '.'),
             s.progress, s.state);
  std::fflush(stderr);
}

int Download(const ClientArgs& a, const std::vector<std::string>& urls) {
  std::filesystem::create_directories(a.out);
  for (const auto& url : urls) {
    auto res = net::Fetch({"GET", url, {}, "", 300'000});
    if (!res.ok() || res->status != 200) {
      fmt::print(stderr, "download failed: {}\n", url);
      return 1;
    }
    const auto q = url.find('?');
    const auto slash = url.rfind('/', q);
    const auto path = std::filesystem::path(a.out) / url.substr(slash + 1, q - slash - 1);
    std::ofstream(path, std::ios::binary) << res->body;
    fmt::print("{}\n", path.string());
  }
  return 0;
}

int RunSubmit(const ClientArgs& a) {
  auto id = Submit(a);
  if (!id.ok()) {
    fmt::print(stderr, "submit failed: {}\n", id.error().message);
    return 1;
  }
  fmt::print("{}\n", *id);
  std::fflush(stdout);
  if (!a.wait) return 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(a.timeout_s);
  for (;;) {
    auto polled = Poll(a, *id);
    if (!polled.ok()) {
      fmt::print(stderr, "\npoll failed: {}\n", polled.error().message);
      return 1;
    }
    const Snapshot& s = polled->second;
    DrawBar(*id, s);
    if (s.done) {
      fmt::print(stderr, "\n");
      if (!s.success) {
        fmt::print(stderr, "task failed: {}\n", s.error);
        return 2;
      }
      return Download(a, s.urls);
    }
    if (std::chrono::steady_clock::now() > deadline) {
      fmt::print(stderr, "\ntimed out waiting for {}\n", *id);
      return 3;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
}

// POST /v1/files; prints the signed URL alone as the last line.
int RunUpload(const ClientArgs& a) {
  std::ifstream in(a.file, std::ios::binary);
  if (!in) {
    fmt::print(stderr, "cannot read {}\n", a.file);
    return 1;
  }
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto r = net::Fetch({"POST", a.server + "/v1/files",
                       {"Authorization: Bearer " + a.key, "Content-Type: application/octet-stream"},
                       std::move(bytes), 300'000});
  if (!r.ok()) {
    fmt::print(stderr, "{}\n", r.error().message);
    return 1;
  }
  auto j = json::parse(r->body, nullptr, false);
  if (r->status != 200 || !j.is_object() || !j.contains("url")) {
    fmt::print(stderr, "upload refused (HTTP {}): {}\n", r->status, r->body);
    return 1;
  }
  fmt::print("uploaded {} ({} bytes, {}); link valid until {}:\n{}\n", a.file, j["bytes"].get<int64_t>(),
             j["content_type"].get<std::string>(), j["expires_at"].get<int64_t>(), j["url"].get<std::string>());
  return 0;
}

void AddConnection(CLI::App* cmd, ClientArgs& a) {
  cmd->add_option("--server", a.server, "server base URL (default: WANSERVE_SERVER, else http://127.0.0.1:8080)");
  cmd->add_option("--key", a.key, "API key (default: WANSERVE_API_KEY)");
}

// The connection options after the environment's (a flag wins); false, said, when there is
// no key.
bool Connect(ClientArgs& a) {
  a.server = FlagOrEnv(a.server, "WANSERVE_SERVER", "http://127.0.0.1:8080");
  a.key = FlagOrEnv(a.key, "WANSERVE_API_KEY");
  if (a.key.empty()) fmt::print(stderr, "error: an API key is needed: --key, or WANSERVE_API_KEY\n");
  return !a.key.empty();
}

}  // namespace

void AddClientCommands(CLI::App& app, int& exit_code) {
  auto a = std::make_shared<ClientArgs>();
  auto* submit = app.add_subcommand("submit", "Submit a task through the public API");
  AddConnection(submit, *a);
  submit->add_option("--dialect", a->dialect, "unified, skills_video or market")->capture_default_str();
  submit->add_option("--model", a->model, "model name in that dialect (e.g. wan2.7-text-to-video)")->required();
  submit->add_option("--prompt", a->prompt, "prompt")->required();
  submit->add_option("--set", a->sets, "extra field key=value (JSON values allowed), repeatable");
  submit->add_flag("--wait", a->wait, "wait with a progress bar, then download the outputs");
  submit->add_option("--out", a->out, "folder for downloads")->capture_default_str();
  submit->add_option("--timeout", a->timeout_s, "seconds to wait")->capture_default_str();
  submit->callback([a, &exit_code] { exit_code = Connect(*a) ? RunSubmit(*a) : 2; });

  auto* upload = app.add_subcommand("upload", "Upload a local file; prints a URL usable in any dialect");
  AddConnection(upload, *a);
  upload->add_option("file", a->file, "image, video or audio file")->required();
  upload->callback([a, &exit_code] { exit_code = Connect(*a) ? RunUpload(*a) : 2; });

  auto* status = app.add_subcommand("status", "Print a task as its dialect shows it");
  AddConnection(status, *a);
  status->add_option("id", a->id, "task id")->required();
  status->callback([a, &exit_code] {
    if (!Connect(*a)) {
      exit_code = 2;
      return;
    }
    auto polled = Poll(*a, a->id);
    if (!polled.ok()) {
      fmt::print(stderr, "{}\n", polled.error().message);
      exit_code = 1;
      return;
    }
    fmt::print("{}\n", polled->first.dump(2));
    exit_code = 0;
  });
}

}  // namespace wanserve::cli
