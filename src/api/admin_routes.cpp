#include "api/admin_routes.h"

#include <nlohmann/json.hpp>

#include "api/dialects/fields.h"
#include "api/json_limits.h"
#include "billing/accounts.h"
#include "callbacks/dead_letters.h"
#include "billing/credits.h"
#include "common/time_format.h"
#include "net/outbound_client.h"

namespace wanserve::api {
namespace {

using nlohmann::json;
using dialects::Fields;

constexpr int64_t kMaxCredits = int64_t{1} << 50;  // far above any real grant, far below overflow

HttpResponse AdminError(const Error& e) {
  const int status = PlainHttpStatus(e.code);
  json body = {{"error", {{"code", ToString(e.code)}, {"message", e.message}}}};
  if (!e.field.empty()) body["error"]["field"] = e.field;
  return HttpResponse::Json(status, body.dump());
}

// Account webhooks are judged by the outbound guard's rules when they are set.
billing::AddressCheck WebhookCheck(const AdminDeps& deps) {
  return [policy = deps.url_policy](const std::string& url) {
    return net::CheckUrlWhenSet(url, /*require_https=*/true, policy ? *policy : net::AddressPolicy());
  };
}

std::string Iso(int64_t ms) { return ms > 0 ? FormatIso8601Utc(ms) : ""; }

json AccountJson(const store::Account& a, const billing::CreditView* credits) {
  json out = {{"id", a.id},
              {"name", a.name},
              {"created_at", Iso(a.created_ms)},
              {"unlimited", a.unlimited},
              {"subscription_credits", a.subscription_balance},
              {"subscription_expires_at", a.subscription_expires_ms > 0 ? json(Iso(a.subscription_expires_ms)) : json()},
              {"permanent_credits", a.permanent_balance},
              {"max_concurrent", a.max_concurrent},
              {"webhook_url", a.webhook_url}};
  if (credits) {
    out["available_credits"] = credits->total();
    out["spent_credits"] = credits->account_spent;
  }
  return out;
}

json KeyJson(const store::ApiKey& k) {
  return {{"id", k.id},
          {"name", k.name},
          {"account_id", k.account_id},
          {"role", k.admin ? "admin" : "client"},
          {"prefix", k.prefix},
          {"created_at", Iso(k.created_ms)},
          {"revoked_at", k.revoked_ms > 0 ? json(Iso(k.revoked_ms)) : json()},
          {"rpm", k.rpm_limit},
          {"credit_cap", k.credit_cap}};
}

Result<billing::CreditGrant> GrantOf(const Fields& f, bool reason_required) {
  billing::CreditGrant g;
  ASSIGN_OR_RETURN(g.subscription, f.IntOr("subscription_credits", 0, 0, kMaxCredits));
  ASSIGN_OR_RETURN(g.subscription_expires, f.StringOr("subscription_expires", "", 40));
  ASSIGN_OR_RETURN(g.permanent, f.IntOr("permanent_credits", 0, 0, kMaxCredits));
  if (reason_required) {
    ASSIGN_OR_RETURN(g.reason, f.RequiredString("reason", 1, 500));
  }
  if (g.subscription > 0 && g.subscription_expires.empty()) {
    return MakeError(ErrorCode::kInvalidInput, "subscription_credits need subscription_expires",
                     "subscription_expires");
  }
  return g;
}

// Runs fn on the body parsed as one JSON object.
template <typename Fn>
HttpResponse WithBody(const HttpRequest& req, Fn&& fn) {
  if (auto type = CheckJsonContentType(req.Header("content-type").value_or("")); !type.ok()) return AdminError(type.error());
  auto body = dialects::ParseJsonObject(req.body.empty() ? "{}" : req.body);
  if (!body.ok()) return AdminError(body.error());
  return fn(Fields(*body));
}

HttpResponse AccountResponse(int status, const AdminDeps& deps, const Result<store::Account>& a) {
  if (!a.ok()) return AdminError(a.error());
  auto credits = billing::ViewCredits(deps.store, a->id, "", deps.clock->NowMs());
  if (!credits.ok()) return AdminError(credits.error());
  return HttpResponse::Json(status, AccountJson(*a, &*credits).dump());
}

void AddAccountRoutes(Router& router, const AdminDeps& deps) {
  router.Add({"GET", "/admin/v1/accounts", Access::kAdminToken,
              [deps](const HttpRequest&, const RequestContext&) {
                auto all = deps.store.ListAccounts();
                if (!all.ok()) return AdminError(all.error());
                json data = json::array();
                for (const auto& a : *all) data.push_back(AccountJson(a, nullptr));
                return HttpResponse::Json(200, json{{"data", data}}.dump());
              },
              AdminError});
  router.Add({"POST", "/admin/v1/accounts", Access::kAdminToken,
              [deps](const HttpRequest& req, const RequestContext&) {
                return WithBody(req, [&](const Fields& f) {
                  billing::NewAccount spec;
                  auto name = f.RequiredString("name", 1, 100);
                  if (!name.ok()) return AdminError(name.error());
                  spec.name = *name;
                  auto max_concurrent = f.IntOr("max_concurrent", 0, 0, 1'000'000);
                  if (!max_concurrent.ok()) return AdminError(max_concurrent.error());
                  spec.max_concurrent = *max_concurrent;
                  auto hook = f.StringOr("webhook_url", "", 2048);
                  if (!hook.ok()) return AdminError(hook.error());
                  spec.webhook_url = *hook;
                  auto grant = GrantOf(f, false);
                  if (!grant.ok()) return AdminError(grant.error());
                  spec.initial = *grant;
                  return AccountResponse(
                      201, deps, billing::CreateAccount(deps.store, spec, deps.clock->NowMs(), WebhookCheck(deps)));
                });
              },
              AdminError});
  router.Add({"GET", "/admin/v1/accounts/{id}", Access::kAdminToken,
              [deps](const HttpRequest&, const RequestContext& rc) {
                return AccountResponse(200, deps, deps.store.GetAccount(rc.params.at("id")));
              },
              AdminError});
  router.Add({"POST", "/admin/v1/accounts/{id}/grants", Access::kAdminToken,
              [deps](const HttpRequest& req, const RequestContext& rc) {
                return WithBody(req, [&](const Fields& f) {
                  auto grant = GrantOf(f, true);
                  if (!grant.ok()) return AdminError(grant.error());
                  if (grant->subscription == 0 && grant->permanent == 0) {
                    return AdminError(MakeError(ErrorCode::kInvalidInput, "a grant adds credits: "
                                                "subscription_credits or permanent_credits must be positive"));
                  }
                  return AccountResponse(
                      200, deps, billing::GrantCredits(deps.store, rc.params.at("id"), *grant, deps.clock->NowMs()));
                });
              },
              AdminError});
  router.Add({"POST", "/admin/v1/accounts/{id}/webhook", Access::kAdminToken,
              [deps](const HttpRequest& req, const RequestContext& rc) {
                return WithBody(req, [&](const Fields& f) {
                  auto url = f.StringOr("url", "", 2048);
                  if (!url.ok()) return AdminError(url.error());
                  return AccountResponse(
                      200, deps, billing::SetWebhookUrl(deps.store, rc.params.at("id"), *url, WebhookCheck(deps)));
                });
              },
              AdminError});
}

void AddKeyRoutes(Router& router, const AdminDeps& deps) {
  router.Add({"GET", "/admin/v1/keys", Access::kAdminToken,
              [deps](const HttpRequest&, const RequestContext&) {
                auto all = deps.store.ListKeys();
                if (!all.ok()) return AdminError(all.error());
                json data = json::array();
                for (const auto& k : *all) data.push_back(KeyJson(k));
                return HttpResponse::Json(200, json{{"data", data}}.dump());
              },
              AdminError});
  router.Add({"POST", "/admin/v1/keys", Access::kAdminToken,
              [deps](const HttpRequest& req, const RequestContext&) {
                return WithBody(req, [&](const Fields& f) {
                  auto account = f.StringOr("account_id", store::kDefaultAccountId, 100);
                  auto name = f.StringOr("name", "default", 100);
                  auto rpm = f.IntOr("rpm", 0, 0, 1'000'000);
                  auto cap = f.IntOr("credit_cap", 0, 0, kMaxCredits);
                  if (!account.ok()) return AdminError(account.error());
                  if (!name.ok()) return AdminError(name.error());
                  if (!rpm.ok()) return AdminError(rpm.error());
                  if (!cap.ok()) return AdminError(cap.error());
                  if (auto a = deps.store.GetAccount(*account); !a.ok()) return AdminError(a.error());
                  auto key = CreateApiKey(deps.store, *name, *deps.clock, *account, {*rpm, *cap});
                  if (!key.ok()) return AdminError(key.error());
                  json out = KeyJson(key->record);
                  out["key"] = key->secret;  // shown once
                  return HttpResponse::Json(201, out.dump());
                });
              },
              AdminError});
  router.Add({"POST", "/admin/v1/keys/{id}/revoke", Access::kAdminToken,
              [deps](const HttpRequest&, const RequestContext& rc) {
                if (rc.params.at("id") == rc.key_id) {
                  return AdminError(MakeError(ErrorCode::kConflict, "a token cannot revoke itself; use another one"));
                }
                if (auto st = deps.store.RevokeKey(rc.params.at("id"), deps.clock->NowMs()); !st.ok()) {
                  return AdminError(st.error());
                }
                deps.auth.Forget(rc.params.at("id"));
                return HttpResponse::Json(200, json{{"id", rc.params.at("id")}, {"revoked", true}}.dump());
              },
              AdminError});
}

json DeliveryJson(const store::CallbackDelivery& d) {
  json out = {{"id", d.id},
              {"task_id", d.task_id},
              {"account_id", d.account_id},
              {"url", d.url},
              {"event", d.event},
              {"state", store::ToString(d.state)},
              {"attempts", d.attempts},
              {"created_at", Iso(d.created_ms)},
              {"finished_at", d.finished_ms > 0 ? json(Iso(d.finished_ms)) : json()},
              {"resent_as", d.resent_as.empty() ? json() : json(d.resent_as)}};
  return out;
}

json EndpointJson(const store::CallbackEndpoint& e) {
  return {{"endpoint", e.endpoint},
          {"consecutive_failures", e.consecutive_failures},
          {"failing_since", e.failing_since_ms > 0 ? json(Iso(e.failing_since_ms)) : json()},
          {"last_attempt_at", Iso(e.last_attempt_ms)},
          {"last_error", e.last_error},
          {"disabled", e.disabled_ms > 0},
          {"disabled_at", e.disabled_ms > 0 ? json(Iso(e.disabled_ms)) : json()}};
}

// Dead letters (deliveries given up), resending them, and the health of receiving endpoints.
void AddCallbackRoutes(Router& router, const AdminDeps& deps) {
  router.Add({"GET", "/admin/v1/callbacks/failed", Access::kAdminToken,
              [deps](const HttpRequest& req, const RequestContext&) {
                const std::string account = req.Query("account_id").value_or("");
                auto dead = deps.store.ListFailedCallbacks(account, callbacks::kDeadLettersPerPass);
                if (!dead.ok()) return AdminError(dead.error());
                json data = json::array();
                for (const auto& d : *dead) {
                  json letter = DeliveryJson(d.delivery);
                  if (!d.last_error.empty()) {
                    letter["last_error"] = d.last_error;
                    letter["last_status_code"] = d.last_status_code;
                  }
                  data.push_back(std::move(letter));
                }
                return HttpResponse::Json(200, json{{"data", data}}.dump());
              },
              AdminError});
  router.Add({"POST", "/admin/v1/callbacks/{id}/resend", Access::kAdminToken,
              [deps](const HttpRequest&, const RequestContext& rc) {
                auto resent = deps.store.ResendFailedCallback(rc.params.at("id"), deps.clock->NowMs());
                if (!resent.ok()) return AdminError(resent.error());
                return HttpResponse::Json(200, DeliveryJson(*resent).dump());
              },
              AdminError});
  router.Add({"POST", "/admin/v1/callbacks/resend-failed", Access::kAdminToken,
              [deps](const HttpRequest& req, const RequestContext&) {
                return WithBody(req, [&](const Fields& f) {
                  auto account = f.StringOr("account_id", "", 100);
                  if (!account.ok()) return AdminError(account.error());
                  auto report = callbacks::ResendDeadLetters(deps.store, *account, deps.clock->NowMs());
                  if (!report.ok()) return AdminError(report.error());
                  json data = json::array();
                  for (const auto& r : report->resent) data.push_back({{"id", r.dead_id}, {"resent_as", r.new_id}});
                  return HttpResponse::Json(
                      200, json{{"resent", data.size()}, {"data", data}, {"more", report->more}}.dump());
                });
              },
              AdminError});
  router.Add({"GET", "/admin/v1/callbacks/endpoints", Access::kAdminToken,
              [deps](const HttpRequest&, const RequestContext&) {
                auto all = deps.store.ListCallbackEndpoints();
                if (!all.ok()) return AdminError(all.error());
                json data = json::array();
                for (const auto& e : *all) data.push_back(EndpointJson(e));
                return HttpResponse::Json(200, json{{"data", data}}.dump());
              },
              AdminError});
  router.Add({"POST", "/admin/v1/callbacks/endpoints/enable", Access::kAdminToken,
              [deps](const HttpRequest& req, const RequestContext&) {
                return WithBody(req, [&](const Fields& f) {
                  auto endpoint = f.RequiredString("endpoint", 1, 2048);
                  if (!endpoint.ok()) return AdminError(endpoint.error());
                  if (auto st = deps.store.EnableCallbackEndpoint(*endpoint); !st.ok()) return AdminError(st.error());
                  auto now = deps.store.GetCallbackEndpoint(*endpoint);
                  if (!now.ok() || !now->has_value()) return AdminError(MakeError(ErrorCode::kNotFound, *endpoint));
                  return HttpResponse::Json(200, EndpointJson(**now).dump());
                });
              },
              AdminError});
  router.Add({"GET", "/admin/v1/tasks/{id}/callbacks", Access::kAdminToken,
              [deps](const HttpRequest&, const RequestContext& rc) {
                auto all = deps.store.ListCallbacks(rc.params.at("id"));
                if (!all.ok()) return AdminError(all.error());
                json data = json::array();
                for (const auto& d : *all) {
                  json one = DeliveryJson(d);
                  auto log = deps.store.ListCallbackAttempts(d.id);
                  if (!log.ok()) return AdminError(log.error());
                  if (!log->empty()) {
                    one["last_error"] = log->back().error;
                    one["last_status_code"] = log->back().status_code;
                  }
                  json attempts = json::array();
                  for (const auto& a : *log) {
                    attempts.push_back({{"attempt", a.attempt},
                                        {"started_at", Iso(a.started_ms)},
                                        {"latency_ms", a.latency_ms},
                                        {"status_code", a.status_code},
                                        {"error", a.error}});
                  }
                  one["attempt_log"] = attempts;
                  data.push_back(one);
                }
                return HttpResponse::Json(200, json{{"data", data}}.dump());
              },
              AdminError});
  router.Add({"POST", "/admin/v1/tasks/{id}/callbacks/resend", Access::kAdminToken,
              [deps](const HttpRequest&, const RequestContext& rc) {
                auto resent = deps.store.ResendCallback(rc.params.at("id"), deps.clock->NowMs());
                if (!resent.ok()) return AdminError(resent.error());
                return HttpResponse::Json(200, DeliveryJson(*resent).dump());
              },
              AdminError});
}

}  // namespace

void RegisterAdminRoutes(Router& router, const AdminDeps& deps) {
  AddAccountRoutes(router, deps);
  AddKeyRoutes(router, deps);
  AddCallbackRoutes(router, deps);
  router.Add({"GET", "/admin/v1/ledger/check", Access::kAdminToken,
              [deps](const HttpRequest&, const RequestContext&) {
                auto problems = deps.store.CheckLedger();
                if (!problems.ok()) return AdminError(problems.error());
                json list = json::array();
                for (const auto& p : *problems) {
                  list.push_back({{"account_id", p.account_id}, {"task_id", p.task_id}, {"problem", p.what}});
                }
                return HttpResponse::Json(200, json{{"consistent", list.empty()}, {"problems", list}}.dump());
              },
              AdminError});
}

}  // namespace wanserve::api
