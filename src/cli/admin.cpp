#include "cli/admin.h"

#include <fmt/format.h>

#include <memory>

#include "api/auth.h"
#include "billing/accounts.h"
#include "callbacks/dead_letters.h"
#include "cli/data_dir.h"
#include "cli/flag_or_env.h"
#include "common/time_format.h"
#include "net/outbound_client.h"

namespace wanserve::cli {
namespace {

struct AdminArgs {
  std::string data;           // --data, else WANSERVE_DATA, else ./data
  std::string store_url;      // --store-url, else WANSERVE_STORE_URL
  bool create = false;        // make the data folder when it is missing
  std::string allow_network;  // the server's allow_network: internal addresses a webhook may name
  std::string name = "default";
  std::string key_id;
  std::string account = store::kDefaultAccountId;
  std::string account_id;
  int64_t subscription_credits = 0;
  std::string subscription_expires;
  int64_t permanent_credits = 0;
  std::string reason = "admin grant";
  int64_t max_concurrent = 0;
  int64_t rpm = 0;
  int64_t credit_cap = 0;
  std::string webhook_url;
  std::string task_id;
  bool all_failed = false;
};

billing::CreditGrant GrantOf(const AdminArgs& a) {
  return {a.subscription_credits, a.subscription_expires, a.permanent_credits, a.reason};
}

void PrintAccount(const store::Account& a) {
  fmt::print("id            {}\nname          {}\n", a.id, a.name);
  if (a.unlimited) fmt::print("unlimited     yes\n");
  fmt::print("subscription  {} (expires {})\npermanent     {}\nconcurrency   {}\n", a.subscription_balance,
             a.subscription_expires_ms ? FormatIso8601Utc(a.subscription_expires_ms) : "-", a.permanent_balance,
             a.max_concurrent ? std::to_string(a.max_concurrent) : "unlimited");
  fmt::print("webhook url   {}\nwebhook secret {}\n", a.webhook_url.empty() ? "-" : a.webhook_url, a.webhook_secret);
}

void PrintDelivery(store::Store& s, const store::CallbackDelivery& d) {
  fmt::print("{}  {}  {}  {} attempt(s)  {}\n", d.id, d.event, store::ToString(d.state), d.attempts, d.url);
  auto attempts = s.ListCallbackAttempts(d.id);
  if (!attempts.ok()) return;
  for (const auto& a : *attempts) {
    fmt::print("  #{} {}  {} ms  {}  {}\n", a.attempt, FormatIso8601Utc(a.started_ms), a.latency_ms,
               a.status_code ? std::to_string(a.status_code) : "-", a.error.empty() ? "ok" : a.error);
  }
}

// Prints the error for the operator; the exit code of a failed admin command.
int Report(const Error& e) {
  fmt::print(stderr, "error: {}\n", e.message);
  return 1;
}

// Where a command finds the data: the folder, and the shared database when there is one.
void AddDataOptions(CLI::App* command, AdminArgs& args) {
  command->add_option("--data", args.data, "data folder (default: WANSERVE_DATA, else ./data)");
  command->add_option("--store-url", args.store_url,
                      "PostgreSQL database of a scaled-out deployment, postgresql://… (default: WANSERVE_STORE_URL)");
  command->add_flag("--create", args.create, "make the data folder when it does not exist (else refused: a typo "
                                             "would start a new database with a new secret)");
}

// Account webhooks are judged by the outbound guard's rules, with the allowlist the operator
// names (as the server's allow_network), as the admin HTTP API judges them.
Result<billing::AddressCheck> WebhookCheck(const AdminArgs& args) {
  ASSIGN_OR_RETURN(std::vector<net::AllowEntry> allow,
                   net::ParseAllowList(FlagOrEnv(args.allow_network, "WANSERVE_ALLOW_NETWORK")));
  return billing::AddressCheck([policy = net::AddressPolicy(std::move(allow))](const std::string& url) {
    return net::CheckUrlWhenSet(url, /*require_https=*/true, policy);
  });
}

int WithData(const AdminArgs& args, const std::function<int(DataDir&)>& fn) {
  auto data = OpenDataDir(FlagOrEnv(args.data, "WANSERVE_DATA", "./data"),
                          {FlagOrEnv(args.store_url, "WANSERVE_STORE_URL"), 2}, args.create);
  if (!data.ok()) return Report(data.error());
  return fn(*data);
}

}  // namespace

void AddAdminCommands(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<AdminArgs>();
  auto* admin = app.add_subcommand("admin", "Manage a data folder (keys, accounts, ledger)")->require_subcommand(1);
  auto* keys = admin->add_subcommand("keys", "API keys")->require_subcommand(1);

  auto* create = keys->add_subcommand("create", "Create a key; prints the secret as the last line");
  AddDataOptions(create, *args);
  create->add_option("--name", args->name, "label shown in listings")->capture_default_str();
  create->add_option("--account", args->account, "account that pays for this key's tasks")->capture_default_str();
  create->add_option("--rpm", args->rpm, "submits per minute (0 = unlimited)");
  create->add_option("--credit-cap", args->credit_cap, "most credits this key's tasks may use (0 = no cap)");
  create->callback([args, &exit_code] {
    exit_code = WithData(*args, [&](DataDir& d) {
      if (auto acct = d.store->GetAccount(args->account); !acct.ok()) return Report(acct.error());
      auto key = api::CreateApiKey(*d.store, args->name, SystemClock(), args->account, {args->rpm, args->credit_cap});
      if (!key.ok()) return Report(key.error());
      fmt::print("created {} ({}); the secret is shown once:\n{}\n", key->record.id, key->record.name, key->secret);
      return 0;
    });
  });

  auto* list = keys->add_subcommand("list", "List keys (never their secrets)");
  AddDataOptions(list, *args);
  list->callback([args, &exit_code] {
    exit_code = WithData(*args, [&](DataDir& d) {
      auto all = d.store->ListKeys();
      if (!all.ok()) return Report(all.error());
      fmt::print("{:<18} {:<16} {:<6} {:<10} {:<26} {}\n", "ID", "NAME", "ROLE", "PREFIX", "CREATED", "STATE");
      for (const auto& k : *all) {
        fmt::print("{:<18} {:<16} {:<6} {:<10} {:<26} {}\n", k.id, k.name.substr(0, 16), k.admin ? "admin" : "client",
                   k.prefix + "…", FormatIso8601Utc(k.created_ms),
                   k.revoked_ms ? "revoked " + FormatIso8601Utc(k.revoked_ms) : "active");
      }
      return 0;
    });
  });

  auto* revoke = keys->add_subcommand("revoke", "Revoke a key by id");
  AddDataOptions(revoke, *args);
  revoke->add_option("key_id", args->key_id, "key id (key_…)")->required();
  revoke->callback([args, &exit_code] {
    exit_code = WithData(*args, [&](DataDir& d) {
      auto st = d.store->RevokeKey(args->key_id, SystemClock().NowMs());
      if (!st.ok()) return Report(st.error());
      fmt::print("revoked {}\n", args->key_id);
      return 0;
    });
  });

  auto* tokens = admin->add_subcommand("tokens", "Admin tokens for the /admin/v1 HTTP API")->require_subcommand(1);
  auto* tcreate = tokens->add_subcommand("create", "Create an admin token; prints the secret as the last line");
  AddDataOptions(tcreate, *args);
  tcreate->add_option("--name", args->name, "label shown in listings")->capture_default_str();
  tcreate->callback([args, &exit_code] {
    exit_code = WithData(*args, [&](DataDir& d) {
      auto token = api::CreateAdminToken(*d.store, args->name, SystemClock());
      if (!token.ok()) return Report(token.error());
      fmt::print("created admin token {} ({}); list and revoke it with `admin keys`; the secret is shown once:\n{}\n",
                 token->record.id, token->record.name, token->secret);
      return 0;
    });
  });

  auto* accounts = admin->add_subcommand("accounts", "Accounts and their credits")->require_subcommand(1);
  auto* acreate = accounts->add_subcommand("create", "Create an account; prints its id as the last line");
  auto* ashow = accounts->add_subcommand("show", "Show an account's balances");
  auto* agrant = accounts->add_subcommand("grant", "Add credits (a ledger entry with a reason)");
  auto* alist = accounts->add_subcommand("list", "List accounts");
  auto* ahook = accounts->add_subcommand("set-webhook", "Set the endpoint for tasks that name no callback URL");
  for (auto* c : {acreate, ashow, agrant, alist, ahook}) {
    AddDataOptions(c, *args);
  }
  for (auto* c : {acreate, agrant}) {
    c->add_option("--subscription-credits", args->subscription_credits, "subscription credits (spent first)");
    c->add_option("--subscription-expires", args->subscription_expires, "when they expire, e.g. 2026-12-31T00:00:00Z");
    c->add_option("--permanent-credits", args->permanent_credits, "permanent credits (never expire)");
  }
  acreate->add_option("--name", args->name, "unique account name")->required();
  acreate->add_option("--max-concurrent", args->max_concurrent, "queued + running tasks at once (0 = unlimited)");
  acreate->add_option("--webhook-url", args->webhook_url, "callback endpoint for tasks that name none");
  ahook->add_option("account_id", args->account_id, "account id")->required();
  ahook->add_option("--url", args->webhook_url, "https URL; empty turns it off")->required();
  for (auto* c : {acreate, ahook}) {
    c->add_option("--allow-network", args->allow_network,
                  "internal addresses the webhook may name, as the server's allow_network "
                  "(default: WANSERVE_ALLOW_NETWORK)");
  }
  ashow->add_option("account_id", args->account_id, "account id")->required();
  agrant->add_option("account_id", args->account_id, "account id")->required();
  agrant->add_option("--reason", args->reason, "why (kept in the ledger)")->capture_default_str();

  acreate->callback([args, &exit_code] {
    auto check = WebhookCheck(*args);
    if (!check.ok()) {
      exit_code = Report(check.error());
      return;
    }
    exit_code = WithData(*args, [&](DataDir& d) {
      billing::NewAccount spec{args->name, args->max_concurrent, args->webhook_url, GrantOf(*args)};
      auto a = billing::CreateAccount(*d.store, spec, SystemClock().NowMs(), *check);
      if (!a.ok()) return Report(a.error());
      fmt::print("created account {}:\n{}\n", a->name, a->id);
      return 0;
    });
  });
  ashow->callback([args, &exit_code] {
    exit_code = WithData(*args, [&](DataDir& d) {
      auto a = d.store->GetAccount(args->account_id);
      if (!a.ok()) return Report(a.error());
      PrintAccount(*a);
      return 0;
    });
  });
  agrant->callback([args, &exit_code] {
    exit_code = WithData(*args, [&](DataDir& d) {
      auto a = billing::GrantCredits(*d.store, args->account_id, GrantOf(*args), SystemClock().NowMs());
      if (!a.ok()) return Report(a.error());
      PrintAccount(*a);
      return 0;
    });
  });
  alist->callback([args, &exit_code] {
    exit_code = WithData(*args, [&](DataDir& d) {
      auto all = d.store->ListAccounts();
      if (!all.ok()) return Report(all.error());
      fmt::print("{:<18} {:<20} {:>12} {:>12}\n", "ID", "NAME", "SUBSCRIPTION", "PERMANENT");
      for (const auto& a : *all) {
        fmt::print("{:<18} {:<20} {:>12} {:>12}{}\n", a.id, a.name.substr(0, 20), a.subscription_balance,
                   a.permanent_balance, a.unlimited ? "  (unlimited)" : "");
      }
      return 0;
    });
  });

  ahook->callback([args, &exit_code] {
    auto check = WebhookCheck(*args);
    if (!check.ok()) {
      exit_code = Report(check.error());
      return;
    }
    exit_code = WithData(*args, [&](DataDir& d) {
      auto a = billing::SetWebhookUrl(*d.store, args->account_id, args->webhook_url, *check);
      if (!a.ok()) return Report(a.error());
      PrintAccount(*a);
      return 0;
    });
  });

  auto* callbacks = admin->add_subcommand("callbacks", "Task completion callbacks")->require_subcommand(1);
  auto* clist = callbacks->add_subcommand("list", "A task's deliveries and every attempt");
  auto* cresend = callbacks->add_subcommand(
      "resend", "Send again (new webhook-id): a finished task's callback, one dead letter (msg_…), or with --failed "
                "every dead letter");
  auto* cfailed = callbacks->add_subcommand("failed", "Dead letters: deliveries given up and not resent");
  auto* cendpoints = callbacks->add_subcommand("endpoints", "Receiving endpoints: failure streaks, disabled ones");
  auto* cenable = callbacks->add_subcommand("enable-endpoint", "Enable an endpoint disabled for failing too long");
  for (auto* c : {clist, cresend, cfailed, cendpoints, cenable}) {
    AddDataOptions(c, *args);
  }
  clist->add_option("--task", args->task_id, "task id")->required();
  auto* resend_failed = cresend->add_flag("--failed", args->all_failed, "every dead letter (of --account, if given)");
  cresend->add_option("id", args->task_id, "a task id, or a delivery id (msg_…) that was given up")
      ->excludes(resend_failed);
  for (auto* c : {cresend, cfailed}) c->add_option("--account", args->account_id, "only this account's");
  cenable->add_option("endpoint", args->webhook_url, "the endpoint as `callbacks endpoints` lists it")->required();
  cfailed->callback([args, &exit_code] {
    exit_code = WithData(*args, [&](DataDir& d) {
      auto dead = d.store->ListFailedCallbacks(args->account_id, callbacks::kDeadLettersPerPass);
      if (!dead.ok()) return Report(dead.error());
      if (dead->empty()) fmt::print("no dead letters\n");
      for (const auto& letter : *dead) {
        const auto& delivery = letter.delivery;
        fmt::print("{}  {}  {}  {} attempt(s)  {}  last: {}{}\n", delivery.id, delivery.task_id, delivery.event,
                   delivery.attempts, delivery.url, letter.last_status_code ? std::to_string(letter.last_status_code) + " " : "",
                   letter.last_error.empty() ? "-" : letter.last_error);
      }
      return 0;
    });
  });
  cendpoints->callback([args, &exit_code] {
    exit_code = WithData(*args, [&](DataDir& d) {
      auto all = d.store->ListCallbackEndpoints();
      if (!all.ok()) return Report(all.error());
      for (const auto& e : *all) {
        fmt::print("{}  {}  {} failure(s) in a row{}{}\n", e.disabled_ms ? "DISABLED" : "enabled ", e.endpoint,
                   e.consecutive_failures,
                   e.failing_since_ms ? " since " + FormatIso8601Utc(e.failing_since_ms) : "",
                   e.last_error.empty() ? "" : ", last: " + e.last_error);
      }
      return 0;
    });
  });
  cenable->callback([args, &exit_code] {
    exit_code = WithData(*args, [&](DataDir& d) {
      if (auto st = d.store->EnableCallbackEndpoint(args->webhook_url); !st.ok()) return Report(st.error());
      fmt::print("enabled {}; resend its dead letters with `wanserve admin callbacks resend --failed`\n",
                 args->webhook_url);
      return 0;
    });
  });
  clist->callback([args, &exit_code] {
    exit_code = WithData(*args, [&](DataDir& d) {
      auto all = d.store->ListCallbacks(args->task_id);
      if (!all.ok()) return Report(all.error());
      if (all->empty()) fmt::print("no callbacks for {}\n", args->task_id);
      for (const auto& delivery : *all) PrintDelivery(*d.store, delivery);
      return 0;
    });
  });
  cresend->callback([args, &exit_code] {
    exit_code = WithData(*args, [&](DataDir& d) {
      const int64_t now = SystemClock().NowMs();
      if (args->all_failed) {
        auto report = callbacks::ResendDeadLetters(*d.store, args->account_id, now);
        if (!report.ok()) return Report(report.error());
        fmt::print("queued {} dead letter(s) again{}\n", report->resent.size(),
                   report->more ? "; more remain, run it again" : "");
        return 0;
      }
      if (args->task_id.empty()) return Report(MakeError(ErrorCode::kInvalidInput, "name a task or delivery, or --failed"));
      auto delivery = args->task_id.starts_with("msg_") ? d.store->ResendFailedCallback(args->task_id, now)
                                                        : d.store->ResendCallback(args->task_id, now);
      if (!delivery.ok()) return Report(delivery.error());
      fmt::print("queued {} to {}; a running server sends it within a second\n", delivery->id, delivery->url);
      return 0;
    });
  });

  auto* ledger = admin->add_subcommand("ledger", "The credit ledger")->require_subcommand(1);
  auto* check = ledger->add_subcommand("check", "Recompute balances from the ledger; exit 1 on any mismatch");
  AddDataOptions(check, *args);
  check->callback([args, &exit_code] {
    exit_code = WithData(*args, [&](DataDir& d) {
      auto problems = d.store->CheckLedger();
      if (!problems.ok()) {
        fmt::print(stderr, "error: {}\n", problems.error().message);
        return 2;
      }
      for (const auto& p : *problems) {
        fmt::print("MISMATCH account={} task={}: {}\n", p.account_id, p.task_id.empty() ? "-" : p.task_id, p.what);
      }
      if (!problems->empty()) return 1;
      fmt::print("ledger consistent\n");
      return 0;
    });
  });
}

}  // namespace wanserve::cli
