#include "cli/admin.h"

#include <fmt/format.h>

#include <memory>

#include "api/auth.h"
#include "cli/data_dir.h"
#include "common/time_format.h"

namespace wanserve::cli {
namespace {

struct AdminArgs {
  std::string data = "./data";
  std::string name = "default";
  std::string key_id;
};

int WithData(const AdminArgs& args, const std::function<int(DataDir&)>& fn) {
  auto data = OpenDataDir(args.data);
  if (!data.ok()) {
    fmt::print(stderr, "error: {}\n", data.error().message);
    return 1;
  }
  return fn(*data);
}

}  // namespace

void AddAdminCommands(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<AdminArgs>();
  auto* admin = app.add_subcommand("admin", "Manage a data folder (keys)")->require_subcommand(1);
  auto* keys = admin->add_subcommand("keys", "API keys")->require_subcommand(1);

  auto* create = keys->add_subcommand("create", "Create a key; prints the secret as the last line");
  create->add_option("--data", args->data, "data folder")->envname("WANSERVE_DATA")->capture_default_str();
  create->add_option("--name", args->name, "label shown in listings")->capture_default_str();
  create->callback([args, &exit_code] {
    exit_code = WithData(*args, [&](DataDir& d) {
      auto key = api::CreateApiKey(*d.store, args->name, SystemClock());
      if (!key.ok()) {
        fmt::print(stderr, "error: {}\n", key.error().message);
        return 1;
      }
      fmt::print("created {} ({}); the secret is shown once:\n{}\n", key->record.id, key->record.name, key->secret);
      return 0;
    });
  });

  auto* list = keys->add_subcommand("list", "List keys (never their secrets)");
  list->add_option("--data", args->data, "data folder")->envname("WANSERVE_DATA")->capture_default_str();
  list->callback([args, &exit_code] {
    exit_code = WithData(*args, [&](DataDir& d) {
      auto all = d.store->ListKeys();
      if (!all.ok()) {
        fmt::print(stderr, "error: {}\n", all.error().message);
        return 1;
      }
      fmt::print("{:<18} {:<16} {:<10} {:<26} {}\n", "ID", "NAME", "PREFIX", "CREATED", "STATE");
      for (const auto& k : *all) {
        fmt::print("{:<18} {:<16} {:<10} {:<26} {}\n", k.id, k.name, k.prefix + "…",
                   FormatIso8601Utc(k.created_ms), k.revoked_ms ? "revoked " + FormatIso8601Utc(k.revoked_ms) : "active");
      }
      return 0;
    });
  });

  auto* revoke = keys->add_subcommand("revoke", "Revoke a key by id");
  revoke->add_option("--data", args->data, "data folder")->envname("WANSERVE_DATA")->capture_default_str();
  revoke->add_option("key_id", args->key_id, "key id (key_…)")->required();
  revoke->callback([args, &exit_code] {
    exit_code = WithData(*args, [&](DataDir& d) {
      auto st = d.store->RevokeKey(args->key_id, SystemClock().NowMs());
      if (!st.ok()) {
        fmt::print(stderr, "error: {}\n", st.error().message);
        return 1;
      }
      fmt::print("revoked {}\n", args->key_id);
      return 0;
    });
  });
}

}  // namespace wanserve::cli
