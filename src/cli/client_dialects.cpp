#include "cli/client_dialects.h"

#include <fmt/format.h>

#include "net/http_client.h"

namespace wanserve::cli {
namespace {

using nlohmann::json;

// "<code>: <message> (HTTP n)" from any dialect's error body: unified's error object, the
// code and message of DashScope and skills.video, kie's code and msg.
Error Refusal(long status, const json& body, const std::string& raw) {
  std::string code, message;
  if (body.is_object()) {
    const json& e = body.contains("error") && body["error"].is_object() ? body["error"] : body;
    if (e.contains("code")) code = e["code"].is_string() ? e["code"].get<std::string>() : e["code"].dump();
    if (e.contains("message") && e["message"].is_string()) message = e["message"];
    if (message.empty() && e.contains("msg") && e["msg"].is_string()) message = e["msg"];
  }
  if (message.empty()) message = raw.substr(0, 300);
  return MakeError(ErrorCode::kInvalidInput,
                   code.empty() ? fmt::format("{} (HTTP {})", message, status)
                                : fmt::format("{}: {} (HTTP {})", code, message, status));
}

Result<json> Call(const ServerConnection& c, const std::string& method, const std::string& path, const std::string& body,
                  std::vector<std::string> extra_headers = {}) {
  std::vector<std::string> headers = {"Authorization: Bearer " + c.key, "Content-Type: application/json"};
  headers.insert(headers.end(), extra_headers.begin(), extra_headers.end());
  ASSIGN_OR_RETURN(auto res, net::Fetch({method, c.server + path, headers, body, 30'000}));
  json j = json::parse(res.body, nullptr, false);
  // kie answers refusals with HTTP 200 and the refusal's code in the envelope.
  const bool kie_refusal = j.is_object() && j.contains("code") && j["code"].is_number() && j["code"] != 200;
  if (res.status >= 400 || kie_refusal || j.is_discarded()) {
    return Refusal(kie_refusal ? j["code"].get<long>() : res.status, j, res.body);
  }
  return j;
}

json ParseSetValue(const std::string& v) {
  json j = json::parse(v, nullptr, false);
  return j.is_discarded() ? json(v) : j;
}

Status ApplySets(const std::vector<std::string>& sets, json& body) {
  for (const auto& s : sets) {
    const auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0) return MakeError(ErrorCode::kInvalidInput, "--set takes key=value: " + s);
    std::string pointer = "/" + s.substr(0, eq);
    for (char& ch : pointer) ch = ch == '.' ? '/' : ch;
    body[json::json_pointer(pointer)] = ParseSetValue(s.substr(eq + 1));
  }
  return Status::Ok();
}

bool IsVideoModel(const std::string& model) {
  return model.find("video") != std::string::npos || model.find("2v") != std::string::npos ||
         model.find("videoedit") != std::string::npos;
}

bool IsUuid(const std::string& id) {
  if (id.size() != 36) return false;
  for (size_t i = 0; i < id.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash != (id[i] == '-') || (!dash && !std::isxdigit(static_cast<unsigned char>(id[i])))) return false;
  }
  return true;
}

}  // namespace

std::string DialectOfTaskId(const std::string& id) {
  if (id.starts_with("gen_")) return "skills_video";
  if (id.starts_with("task-unified-")) return "unified";
  if (id.starts_with("task_wan_")) return "market";
  if (IsUuid(id)) return "dashscope";
  return "";
}

Result<std::pair<json, std::string>> SubmitTask(const ServerConnection& c, const SubmitSpec& spec) {
  json body;
  std::string path;
  std::vector<std::string> headers;
  if (spec.dialect == "unified") {
    body = {{"model", spec.model}, {"prompt", spec.prompt}};
    path = IsVideoModel(spec.model) ? "/v1/videos/generations" : "/v1/images/generations";
  } else if (spec.dialect == "skills_video") {
    body = {{"prompt", spec.prompt}};
    path = "/api/v1/generation/" + (spec.model.find('/') == std::string::npos ? "wan/" + spec.model : spec.model);
  } else if (spec.dialect == "market") {
    body = {{"model", spec.model}, {"input", {{"prompt", spec.prompt}}}};
    path = "/api/v1/jobs/createTask";
  } else if (spec.dialect == "dashscope") {
    const bool video = IsVideoModel(spec.model);
    body = {{"model", spec.model}};
    if (video) {
      body["input"] = {{"prompt", spec.prompt}};
    } else {
      body["input"] = {{"messages", {{{"role", "user"}, {"content", {{{"text", spec.prompt}}}}}}}};
    }
    path = video ? "/api/v1/services/aigc/video-generation/video-synthesis"
                 : "/api/v1/services/aigc/image-generation/generation";
    headers.push_back("X-DashScope-Async: enable");
  } else {
    return MakeError(ErrorCode::kInvalidInput,
                     "unknown dialect " + spec.dialect + " (unified, skills_video, market, dashscope)");
  }
  RETURN_IF_ERROR(ApplySets(spec.sets, body));
  ASSIGN_OR_RETURN(json answer, Call(c, "POST", path, body.dump(), headers));
  std::string id;
  if (spec.dialect == "market") {
    id = answer.at("data").at("taskId");
  } else if (spec.dialect == "dashscope") {
    id = answer.at("output").at("task_id");
  } else {
    id = answer.at("id");
  }
  return std::make_pair(std::move(answer), std::move(id));
}

Result<std::pair<json, TaskView>> ReadTask(const ServerConnection& c, const std::string& id) {
  TaskView v;
  const std::string dialect = DialectOfTaskId(id);
  if (dialect == "unified") {
    ASSIGN_OR_RETURN(json r, Call(c, "GET", "/v1/tasks/" + id, ""));
    v.state = r.value("status", "");
    v.progress = r.value("progress", 0);
    v.done = v.state == "completed" || v.state == "failed";
    v.success = v.state == "completed";
    if (r.contains("results")) v.urls = r["results"].get<std::vector<std::string>>();
    if (r.contains("error")) v.error = r["error"].value("code", "") + ": " + r["error"].value("message", "");
    return std::make_pair(std::move(r), std::move(v));
  }
  if (dialect == "skills_video") {
    ASSIGN_OR_RETURN(json r, Call(c, "GET", "/api/v1/generation/" + id, ""));
    v.state = r.value("status", "");
    v.progress = r.value("progress", 0);
    v.done = v.state == "COMPLETED" || v.state == "FAILED" || v.state == "CANCELED";
    v.success = v.state == "COMPLETED";
    if (v.success) {
      const json& d = r["data"];
      for (const auto& item : d.contains("videos") ? d["videos"] : d["images"]) v.urls.push_back(item["url"]);
    }
    if (r.contains("code")) v.error = r.value("code", "") + ": " + r.value("message", "");
    return std::make_pair(std::move(r), std::move(v));
  }
  if (dialect == "market") {
    ASSIGN_OR_RETURN(json r, Call(c, "GET", "/api/v1/jobs/recordInfo?taskId=" + id, ""));
    const json& d = r["data"];
    v.state = d.value("state", "");
    v.progress = d.value("progress", 0);
    v.done = v.state == "success" || v.state == "fail";
    v.success = v.state == "success";
    if (v.success) v.urls = json::parse(d["resultJson"].get<std::string>())["resultUrls"].get<std::vector<std::string>>();
    if (v.state == "fail") v.error = d.value("failCode", "") + ": " + d.value("failMsg", "");
    return std::make_pair(std::move(r), std::move(v));
  }
  if (dialect == "dashscope") {
    ASSIGN_OR_RETURN(json r, Call(c, "GET", "/api/v1/tasks/" + id, ""));
    const json& o = r["output"];
    v.state = o.value("task_status", "");
    v.done = v.state == "SUCCEEDED" || v.state == "FAILED" || v.state == "CANCELED" || v.state == "UNKNOWN";
    v.success = v.state == "SUCCEEDED";
    v.progress = v.success ? 100 : 0;  // DashScope reports no progress
    if (o.contains("video_url")) v.urls.push_back(o["video_url"]);
    for (const auto& choice : o.value("choices", json::array())) {
      for (const auto& part : choice["message"]["content"]) v.urls.push_back(part["image"]);
    }
    if (o.contains("code")) v.error = o.value("code", "") + ": " + o.value("message", "");
    if (v.state == "UNKNOWN") v.error = "UNKNOWN: no such task on this server";
    return std::make_pair(std::move(r), std::move(v));
  }
  return MakeError(ErrorCode::kInvalidInput, "not a task id of any dialect: " + id);
}

Result<json> CancelTask(const ServerConnection& c, const std::string& id) {
  const std::string dialect = DialectOfTaskId(id);
  if (dialect == "unified") return Call(c, "POST", "/v1/tasks/" + id + "/cancel", "");
  if (dialect == "skills_video") return Call(c, "POST", "/api/v1/generation/" + id + "/cancel", "");
  if (dialect == "market") return Call(c, "POST", "/api/v1/jobs/cancelTask?taskId=" + id, "");
  if (dialect == "dashscope") return Call(c, "POST", "/api/v1/tasks/" + id + "/cancel", "");
  return MakeError(ErrorCode::kInvalidInput, "not a task id of any dialect: " + id);
}

}  // namespace wanserve::cli
