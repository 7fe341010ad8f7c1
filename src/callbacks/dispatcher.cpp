#include "callbacks/dispatcher.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "callbacks/signature.h"
#include "common/time_format.h"

namespace wanserve::callbacks {

std::string CallbackEndpointOf(const std::string& url) { return url.substr(0, url.find_first_of("?#")); }

CallbackDispatcher::CallbackDispatcher(store::Store& store, net::OutboundClient& client, PayloadRenderer render,
                                       std::shared_ptr<Clock> clock, MetricsRegistry& metrics,
                                       CallbackOptions options)
    : store_(store),
      client_(client),
      render_(std::move(render)),
      clock_(std::move(clock)),
      metrics_(metrics),
      options_(std::move(options)) {
  metrics_.Describe("wanserve_callback_attempts_total", "counter",
                    "Callback delivery attempts by outcome (delivered, retry, given_up, endpoint_disabled).");
  metrics_.Describe("wanserve_callback_endpoints_disabled_total", "counter",
                    "Callback endpoints disabled for failing longer than callbacks.disable_endpoint_after_s.");
}

CallbackDispatcher::~CallbackDispatcher() { Stop(); }

void CallbackDispatcher::Start() { thread_ = std::thread([this] { Loop(); }); }

void CallbackDispatcher::Stop() {
  {
    std::lock_guard lock(shared_->mu);
    stopping_ = true;
    shared_->wake = true;
  }
  shared_->cv.notify_all();
  if (thread_.joinable()) thread_.join();
}

void CallbackDispatcher::Notify() {
  {
    std::lock_guard lock(shared_->mu);
    shared_->wake = true;
  }
  shared_->cv.notify_all();
}

Result<net::OutboundRequest> CallbackDispatcher::BuildRequest(const store::CallbackDelivery& d) {
  ASSIGN_OR_RETURN(core::Task task, store_.Get(d.task_id));
  ASSIGN_OR_RETURN(CallbackPayload payload, render_(task, d));
  ASSIGN_OR_RETURN(store::Account account, store_.GetAccount(d.account_id));
  const int64_t timestamp = clock_->NowMs() / 1000;
  auto signature = StandardWebhookSignature(account.webhook_secret, d.id, timestamp, payload.body);
  if (!signature) return MakeError(ErrorCode::kInternal, "account " + d.account_id + " has no usable webhook secret");
  net::OutboundRequest request;
  request.method = "POST";
  request.url = d.url;
  request.timeout_ms = options_.timeout_ms;
  request.connect_timeout_ms = options_.timeout_ms;
  request.require_https = options_.require_https;
  request.follow_redirects = false;
  request.max_body_bytes = 64 * 1024;  // the receiver's answer is not used beyond its status
  request.headers = {{"Content-Type", "application/json"},
                     {"webhook-id", d.id},
                     {"webhook-timestamp", std::to_string(timestamp)},
                     {"webhook-signature", *signature},
                     {"X-Wanserve-Event", d.event},
                     {"X-Wanserve-Attempt", std::to_string(d.attempts)}};
  if (!payload.signed_task_id.empty()) {
    request.headers.emplace_back("X-Webhook-Timestamp", std::to_string(timestamp));
    request.headers.emplace_back("X-Webhook-Signature", *KieSignature(account.webhook_secret, payload.signed_task_id, timestamp));
  }
  request.body = std::move(payload.body);
  return request;
}

void CallbackDispatcher::Send(const store::CallbackDelivery& d) {
  const int64_t started = clock_->NowMs();
  ++in_flight_;
  auto endpoint = store_.GetCallbackEndpoint(CallbackEndpointOf(d.url));
  if (endpoint.ok() && endpoint->has_value() && (*endpoint)->disabled_ms > 0) {
    Error disabled = MakeError(ErrorCode::kUnavailable, "the endpoint was disabled at " +
                                                            FormatIso8601Utc((*endpoint)->disabled_ms) +
                                                            " for failing too long; an operator can enable it");
    disabled.detail_code = "endpoint_disabled";
    Record({d, started, std::move(disabled), /*sent=*/false, /*endpoint_disabled=*/true});
    return;
  }
  auto request = BuildRequest(d);
  if (!request.ok()) {
    Record({d, started, request.error(), /*sent=*/false});
    return;
  }
  std::weak_ptr<Shared> weak = shared_;
  client_.Start(std::move(request).value(), [weak, d, started](Result<net::OutboundResponse> r) {
    auto shared = weak.lock();
    if (!shared) return;  // the dispatcher is gone; the claim's lease brings the delivery back
    {
      std::lock_guard lock(shared->mu);
      shared->finished.push_back({d, started, std::move(r)});
    }
    shared->cv.notify_all();
  });
}

void CallbackDispatcher::Record(Finished f) {
  --in_flight_;
  const auto& d = f.delivery;
  const int64_t now = clock_->NowMs();
  store::CallbackAttempt attempt{d.id, d.attempts, f.started_ms, now - f.started_ms, 0, ""};
  bool delivered = false;
  if (f.result.ok()) {
    attempt.status_code = static_cast<int>(f.result->status);
    delivered = attempt.status_code >= 200 && attempt.status_code < 300;
    if (!delivered) attempt.error = fmt::format("HTTP {}", attempt.status_code);
  } else {
    const Error& e = f.result.error();
    attempt.error = e.detail_code.empty() ? e.message : e.detail_code + ": " + e.message;
  }
  const int64_t retry_at = delivered || f.endpoint_disabled ? 0 : RetryAt(d, now);
  const char* outcome = delivered             ? "delivered"
                        : f.endpoint_disabled ? "endpoint_disabled"
                        : retry_at            ? "retry"
                                              : "given_up";
  metrics_.Increment("wanserve_callback_attempts_total", {{"outcome", outcome}});
  if (Status s = store_.RecordCallbackAttempt(attempt, delivered, retry_at, now); !s.ok()) {
    spdlog::warn("callback={} task={} attempt {}: not recorded: {}", d.id, d.task_id, d.attempts, s.error().message);
    return;
  }
  if (f.sent) RecordEndpoint(d, delivered, attempt.error, now);
  if (retry_at) next_retry_ms_ = next_retry_ms_ ? std::min(next_retry_ms_, retry_at) : retry_at;
  if (!delivered) {
    spdlog::info("callback={} task={} attempt {} to {} failed ({}); {}", d.id, d.task_id, d.attempts, d.url,
                 attempt.error, retry_at ? fmt::format("retrying in {} ms", retry_at - now) : "giving up");
  }
}

int64_t CallbackDispatcher::RetryAt(const store::CallbackDelivery& d, int64_t now_ms) const {
  // attempts counts the first try, so attempt n failing waits retry_delays_ms[n-1].
  const auto& schedule = options_.retry_delays_ms;
  const auto failed = static_cast<size_t>(std::max(d.attempts, 1));
  if (failed <= schedule.size()) return now_ms + schedule[failed - 1];
  if (options_.retry_for_ms <= 0) return 0;
  // Doubling from the schedule's last delay (at least 0.1 s, so a schedule of zeros does not
  // hammer the receiver).
  int64_t delay = std::max<int64_t>(schedule.empty() ? 1000 : schedule.back(), 100);
  for (size_t k = schedule.size(); k < failed && delay < kLongestRetryGapMs; ++k) delay *= 2;
  const int64_t at = now_ms + std::min(delay, kLongestRetryGapMs);
  return at <= d.created_ms + options_.retry_for_ms ? at : 0;
}

void CallbackDispatcher::RecordEndpoint(const store::CallbackDelivery& d, bool delivered, const std::string& error,
                                        int64_t now_ms) {
  const std::string endpoint = CallbackEndpointOf(d.url);
  auto health = store_.RecordEndpointResult(endpoint, delivered, error, now_ms, options_.disable_endpoint_after_ms);
  if (!health.ok()) {
    spdlog::warn("callback endpoint {}: health not recorded: {}", endpoint, health.error().message);
  } else if (health->disabled_ms == now_ms) {
    metrics_.Increment("wanserve_callback_endpoints_disabled_total");
    spdlog::warn("callback endpoint {} disabled: failing since {} ({} attempts, last: {}); its deliveries are kept as "
                 "dead letters until it is enabled",
                 endpoint, FormatIso8601Utc(health->failing_since_ms), health->consecutive_failures, error);
  }
}

void CallbackDispatcher::Loop() {
  const int64_t claim_lease_ms = options_.timeout_ms + 5000;
  int64_t stop_deadline = 0;
  while (true) {
    std::deque<Finished> finished;
    bool stopping;
    {
      std::unique_lock lock(shared_->mu);
      const int64_t now = clock_->NowMs();
      int64_t wait_ms = options_.poll_ms;
      if (next_retry_ms_) wait_ms = std::clamp<int64_t>(next_retry_ms_ - now, 0, wait_ms);
      shared_->cv.wait_for(lock, std::chrono::milliseconds(wait_ms),
                           [&] { return shared_->wake || !shared_->finished.empty(); });
      shared_->wake = false;
      finished.swap(shared_->finished);
      stopping = stopping_;
    }
    for (auto& f : finished) Record(std::move(f));
    const int64_t now = clock_->NowMs();
    if (next_retry_ms_ && next_retry_ms_ <= now) next_retry_ms_ = 0;
    if (stopping) {
      if (!stop_deadline) stop_deadline = now + options_.timeout_ms;
      if (in_flight_ == 0 || now >= stop_deadline) return;
      continue;
    }
    const int room = options_.max_in_flight - in_flight_;
    if (room <= 0) continue;
    auto due = store_.ClaimDueCallbacks(now, claim_lease_ms, room);
    if (!due.ok()) {
      spdlog::warn("callback outbox unavailable: {}", due.error().message);
      continue;
    }
    for (const auto& d : *due) Send(d);
  }
}

}  // namespace wanserve::callbacks
