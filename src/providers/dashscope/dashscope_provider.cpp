#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <thread>

#include "providers/dashscope/dashscope.h"
#include "providers/dashscope/protocol.h"

namespace wanserve::providers {
namespace {

// Spaces requests out to at most `per_second`, across every thread that shares it.
class Pacer {
 public:
  explicit Pacer(double per_second)
      : interval_(std::chrono::microseconds(static_cast<int64_t>(1e6 / std::max(per_second, 0.001)))) {}

  void Wait() {
    std::chrono::steady_clock::time_point slot;
    {
      std::lock_guard lock(mu_);
      slot = std::max(next_, std::chrono::steady_clock::now());
      next_ = slot + interval_;
    }
    std::this_thread::sleep_until(slot);
  }

 private:
  std::chrono::steady_clock::duration interval_;
  std::mutex mu_;
  std::chrono::steady_clock::time_point next_{};
};

// Transfers that failed before the request could reach DashScope created nothing there.
bool NothingSent(const Error& e) {
  return e.detail_code == "bad_url" || e.detail_code == "scheme_not_allowed" || e.detail_code == "address_blocked" ||
         e.detail_code == "dns_failed" || e.detail_code == "connect_failed" || e.detail_code == "tls_failed";
}

bool Retryable(const Error& e) {
  return e.code == ErrorCode::kRateLimited || e.detail_code == "InternalError" ||
         e.detail_code.starts_with("upstream_http_5");
}

class DashScopeProvider final : public Provider, public UpstreamApi {
 public:
  DashScopeProvider(DashScopeOptions options, net::OutboundClient& outbound)
      : options_(std::move(options)), outbound_(outbound), pacer_(options_.queries_per_second) {
    while (!options_.base_url.empty() && options_.base_url.back() == '/') options_.base_url.pop_back();
    if (options_.poll_schedule_ms.empty()) options_.poll_schedule_ms = {5'000};
  }

  std::string_view Name() const override { return "dashscope"; }

  Status Serves(const core::GenerationRequest& r) const override {
    if (core::KindsOfModel(r.model).empty()) {
      return MakeError(ErrorCode::kUnsupportedModel, fmt::format("DashScope has no model {}", r.model), "model");
    }
    if (core::IsVideo(r.kind) && r.count > 1) {
      return MakeError(ErrorCode::kInvalidInput, "DashScope makes one video per task", "n");
    }
    return Status::Ok();
  }

  std::vector<Capability> Capabilities(std::string_view model) const override {
    std::vector<Capability> out;
    for (core::RequestKind kind : core::KindsOfModel(model)) {
      out.push_back({kind, core::IsVideo(kind) ? "720p, 1080p" : "1K, 2K, 4K (pro)", "Wan 2.7 on DashScope"});
    }
    return out;
  }

  UpstreamApi* Upstream() override { return this; }

  Result<std::string> Submit(const core::GenerationRequest& request) override {
    const auto call = dashscope::BuildCreate(request);
    Result<std::string> created = SubmitOnce(call);
    // Throttling and DashScope's own hiccups are retried with backoff before giving up.
    for (int64_t delay_ms : options_.submit_retry_ms) {
      if (created.ok() || !Retryable(created.error())) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
      created = SubmitOnce(call);
    }
    return created;
  }

  Result<std::string> SubmitOnce(const dashscope::CreateCall& call) {
    auto response = outbound_.Send(Authorized("POST", options_.base_url + call.path, call.body.dump(), true));
    if (!response.ok()) {
      Error e = response.error();
      if (!NothingSent(e)) {
        e.message = fmt::format("the create request was sent but not answered ({})", e.message);
        e.detail_code = std::string(kOutcomeUnknown);
      }
      e.code = ErrorCode::kUnavailable;
      return e;
    }
    return dashscope::ParseCreated(response->status, response->body);
  }

  Result<UpstreamStatus> Poll(const std::string& upstream_id) override {
    pacer_.Wait();
    auto response = outbound_.Send(Authorized("GET", TaskUrl(upstream_id), "", false));
    if (!response.ok()) return response.error();
    return dashscope::ParseTask(response->status, response->body);
  }

  Status Cancel(const std::string& upstream_id) override {
    pacer_.Wait();
    auto response = outbound_.Send(Authorized("POST", TaskUrl(upstream_id) + "/cancel", "", false));
    if (!response.ok()) return response.error();
    if (response->status != 200) return dashscope::ParseFailure(response->status, response->body);
    return Status::Ok();
  }

  Result<std::string> Download(const std::string& url, int64_t max_bytes) override {
    net::OutboundRequest request;
    request.url = url;
    request.timeout_ms = options_.download_timeout_ms;
    request.max_body_bytes = max_bytes;
    auto response = outbound_.Send(std::move(request));
    if (!response.ok()) return response.error();
    if (response->status != 200) {
      return MakeError(ErrorCode::kUpstreamFailed, fmt::format("result download answered HTTP {}", response->status));
    }
    return std::move(response->body);
  }

  int64_t PollDelayMs(int polls) const override {
    const auto& s = options_.poll_schedule_ms;
    return s[std::min<size_t>(static_cast<size_t>(std::max(polls, 0)), s.size() - 1)];
  }

  int64_t TaskTimeoutMs() const override { return options_.task_timeout_ms; }

 private:
  std::string TaskUrl(const std::string& upstream_id) const {
    return fmt::format("{}/tasks/{}", options_.base_url, upstream_id);
  }

  net::OutboundRequest Authorized(std::string method, std::string url, std::string body, bool async) const {
    net::OutboundRequest r;
    r.method = std::move(method);
    r.url = std::move(url);
    r.body = std::move(body);
    r.timeout_ms = options_.request_timeout_ms;
    r.follow_redirects = false;
    r.headers = {{"Authorization", "Bearer " + options_.api_key}, {"Content-Type", "application/json"}};
    if (async) r.headers.emplace_back("X-DashScope-Async", "enable");
    return r;
  }

  DashScopeOptions options_;
  net::OutboundClient& outbound_;
  Pacer pacer_;
};

}  // namespace

std::unique_ptr<Provider> MakeDashScopeProvider(DashScopeOptions options, net::OutboundClient& outbound) {
  return std::make_unique<DashScopeProvider>(std::move(options), outbound);
}

}  // namespace wanserve::providers
