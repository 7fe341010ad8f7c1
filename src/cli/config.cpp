#include "cli/config.h"

#include <toml++/toml.h>

#include <charconv>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <stdexcept>

#include "cli/blob_stores.h"
#include "engine/engine.h"
#include "engine/presets.h"

namespace wanserve::cli {
namespace {

struct OptionSpec {
  std::string key;  // dotted TOML key
  std::string help;
  std::function<void(const toml::node&)> from_toml;
  std::function<CLI::Option*(CLI::App&, const std::string& flag)> add_flag;
};

std::string FlagName(const std::string& key) {
  std::string f = "--";
  for (char c : key) f += (c == '.' || c == '_') ? '-' : c;
  return f;
}

std::string EnvName(const std::string& key) {
  std::string e = "WANSERVE_";
  for (char c : key) e += (c == '.') ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return e;
}

template <typename T>
OptionSpec Spec(std::string key, std::string help, T* target) {
  OptionSpec s;
  s.key = key;
  s.help = help;
  s.from_toml = [key, target](const toml::node& n) {
    if constexpr (std::is_same_v<T, std::string>) {
      auto v = n.value<std::string>();
      if (!v) throw std::runtime_error("config: " + key + " must be a string");
      *target = *v;
    } else if constexpr (std::is_same_v<T, bool>) {
      auto v = n.value<bool>();
      if (!v) throw std::runtime_error("config: " + key + " must be true or false");
      *target = *v;
    } else if constexpr (std::is_same_v<T, double>) {
      auto v = n.value<double>();
      if (!v) throw std::runtime_error("config: " + key + " must be a number");
      *target = *v;
    } else {
      auto v = n.value<int64_t>();
      if (!v) throw std::runtime_error("config: " + key + " must be an integer");
      *target = static_cast<T>(*v);
    }
  };
  s.add_flag = [target, help](CLI::App& app, const std::string& flag) {
    return app.add_option(flag, *target, help)->capture_default_str();
  };
  return s;
}

ListenAddress Listen(const std::string& text, const std::string& option) {
  auto parsed = ParseListenAddress(text);
  if (!parsed.ok()) throw std::runtime_error(option + ": " + parsed.error().message);
  return *parsed;
}

std::vector<OptionSpec> Specs(Config& c) {
  return {
      Spec("listen", "host:port to listen on", &c.listen),
      Spec("data", "data folder (database, secret, output files)", &c.data),
      Spec("store.url", "shared PostgreSQL database of several nodes, postgresql://… (default: SQLite in the data folder)",
           &c.store_url),
      Spec("store.max_connections", "PostgreSQL connections this process opens at most", &c.store_max_connections),
      Spec("store.synchronous",
           "SQLite: normal (fsync at checkpoints) or full (fsync every commit: no acknowledged write lost on power "
           "loss); PostgreSQL follows its server's synchronous_commit",
           &c.store_synchronous),
      Spec("role", "api (serves HTTP, runs no tasks), worker (runs tasks; HTTP for health and metrics only), or all",
           &c.role),
      Spec("public_url", "base URL of output links (default http://<listen>, https:// with TLS)", &c.public_url),
      Spec("log_level", "trace, debug, info, warn, error", &c.log_level),
      Spec("http.io_threads", "io threads (0 = one per core)", &c.http.io_threads),
      Spec("http.handler_threads", "requests other than GET handled at once (they may wait for the store)",
           &c.http.handler_threads),
      Spec("http.body_limit", "largest request body in bytes", &c.http.body_limit),
      Spec("http.header_timeout_ms", "time to send a request head", &c.http.header_timeout_ms),
      Spec("http.idle_timeout_ms", "keep-alive idle time", &c.http.idle_timeout_ms),
      Spec("http.shutdown_grace_ms", "time for in-flight requests on SIGTERM", &c.http.shutdown_grace_ms),
      Spec("http.access_log", "one JSON line per answered request at info level, with its X-Request-Id",
           &c.http.access_log),
      Spec("http.max_connections", "connections open at once; more are closed when accepted", &c.http.max_connections),
      Spec("tls.cert", "PEM certificate chain: the listeners speak HTTPS (reloaded when the file changes)",
           &c.http.tls_cert_file),
      Spec("tls.key", "PEM private key of tls.cert", &c.http.tls_key_file),
      Spec("http.body_budget_mb", "MiB for the bodies of all requests being read at once (over it: 503, Retry-After)",
           &c.body_budget_mb),
      Spec("billing.enabled", "price tasks and hold credits (false: every task is free and nothing is held)",
           &c.billing_enabled),
      Spec("auth.key_cache_ms", "how long an accepted key is remembered (revocation delay)", &c.key_cache_ms),
      Spec("tasks.query_cache_ms", "how stale a polled running task may be (0 = always read the store)", &c.query_cache_ms),
      Spec("workers.count", "tasks run at once by this process", &c.workers.workers),
      Spec("workers.lease_ms", "task lease; a crashed worker's task is retried after it", &c.workers.lease_ms),
      Spec("workers.renew_every_ms", "lease renewal interval", &c.workers.renew_every_ms),
      Spec("workers.max_attempts", "claims before a task fails", &c.workers.max_attempts),
      Spec("workers.recovery_every_ms", "interval of the expired-lease check", &c.workers.recovery_every_ms),
      Spec("outputs.link_ttl_hours", "hours output links stay valid after completion", &c.link_ttl_hours),
      Spec("files.listen", "host:port of an extra listener serving only the files APIs (default none)",
           &c.files_listen),
      Spec("files.max_file_mb", "largest file in MB through the providers' files APIs", &c.files_max_mb),
      Spec("files.max_files_per_key", "live files per key in the EvoLink files API (its quota)",
           &c.files_max_per_key),
      Spec("outputs.sweep_interval_s", "seconds between expired-output sweeps", &c.sweep_interval_s),
      Spec("secret",
           "signs output links (default: the data folder's secret file); nodes sharing no folder set the same one",
           &c.secret),
      Spec("blobs.url", "s3://bucket/prefix to keep outputs and uploads in an object store (default: the data folder)",
           &c.blobs_url),
      Spec("blobs.s3_endpoint", "object store URL, e.g. http://minio:9000 (default: AWS S3 of the region)",
           &c.blobs_s3_endpoint),
      Spec("blobs.s3_region", "object store region (signs requests)", &c.blobs_s3_region),
      Spec("blobs.s3_path_style", "address the bucket in the path (MinIO, Ceph) instead of the host name",
           &c.blobs_s3_path_style),
      Spec("blobs.s3_credentials_file",
           "AWS credentials file ([default] aws_access_key_id, aws_secret_access_key) when the AWS_ variables are unset",
           &c.blobs_s3_credentials_file),
      Spec("blobs.delivery", "stream (links stream through this server) or redirect (302 to a presigned URL)",
           &c.blobs_delivery),
      Spec("blobs.presigned_ttl_s", "seconds a redirect's presigned URL stays valid", &c.blobs_presigned_ttl_s),
      Spec("outputs.reconcile_interval_s",
           "seconds between sweeps of output files no task records (they list the whole store)",
           &c.reconcile_interval_s),
      Spec("allow_network",
           "internal addresses outbound requests may reach: ranges, addresses or host names, each with an optional "
           ":port, e.g. 10.1.0.0/16, 10.0.0.5:8443, hooks.lan:443 (default none)",
           &c.allow_network),
      Spec("outbound_ca_file", "PEM bundle trusted for outbound TLS besides the system roots", &c.outbound_ca_file),
      Spec("callbacks.retry_schedule_s", "seconds between callback attempts after a failure, e.g. 1,2,4",
           &c.callback_retry_schedule_s),
      Spec("callbacks.timeout_s", "timeout of one callback attempt", &c.callback_timeout_s),
      Spec("callbacks.retry_for_s",
           "after the schedule, keep retrying at doubling intervals (at most 2 h apart) until this long after the "
           "task finished, e.g. 86400; 0 = give up after the schedule",
           &c.callback_retry_for_s),
      Spec("callbacks.disable_endpoint_after_s",
           "an endpoint failing for this long is disabled until an operator enables it (0 = never)",
           &c.callback_disable_endpoint_after_s),
      Spec("providers.dashscope.base_url", "singapore, beijing, or the API base URL", &c.dashscope_base_url),
      Spec("providers.dashscope.api_key_env", "environment variable holding the DashScope API key",
           &c.dashscope_api_key_env),
      Spec("providers.dashscope.api_key_file", "file holding the DashScope API key", &c.dashscope_api_key_file),
      Spec("providers.dashscope.request_timeout_ms", "timeout of one DashScope request",
           &c.dashscope.request_timeout_ms),
      Spec("providers.dashscope.poll_schedule_s", "seconds before each poll of a DashScope task; the last repeats",
           &c.dashscope_poll_schedule_s),
      Spec("providers.dashscope.queries_per_second", "most DashScope queries per second",
           &c.dashscope_queries_per_second),
      Spec("providers.dashscope.task_timeout_s", "how long a DashScope task may take", &c.dashscope_task_timeout_s),
      Spec("upstream.poll_threads", "upstream polls (and result downloads) at once", &c.poller.threads),
      Spec("upstream.poll_lease_ms", "time one poll may take before another process may redo it",
           &c.poller.claim_lease_ms),
      Spec("providers.testpattern.enabled",
           "serve tasks with test patterns (real media, no model: for tests and demos only)", &c.testpattern.enabled),
      Spec("providers.testpattern.steps", "progress steps per output", &c.testpattern.steps),
      Spec("providers.testpattern.step_delay_ms", "delay per step", &c.testpattern.step_delay_ms),
      Spec("providers.local.model",
           "local Wan engine presets, comma-separated in order of preference: tiny (test presets), "
           "wan2.1-t2v-1.3b, wan2.1-t2v-14b, wan2.2-ti2v-5b, wan2.2-t2v-a14b (default none: the local provider is off)",
           &c.local_models),
      Spec("providers.local.weights", "folder of the model's official release files", &c.local.weights_dir),
      Spec("providers.local.threads", "engine threads (0 = every core)", &c.local.threads),
      Spec("providers.local.device", "where the engine runs: auto, cpu, cuda, cuda:N", &c.local.device),
      Spec("providers.local.precision", "engine precision: auto (bf16 on CUDA, float32 on CPU), float32, bf16",
           &c.local.precision),
      Spec("providers.local.edit_strength",
           "how much of the schedule an image or video edit runs again, (0, 1]; lower keeps more of the input "
           "(0 = the engine's default)",
           &c.local.edit_strength),
      Spec("providers.local.offload_text_encoder",
           "on a GPU, keep the text encoder (UMT5-XXL, 11 GB) in host memory and upload it per prompt",
           &c.local.offload_text_encoder),
      Spec("providers.local.cpu_cache_mb",
           "MiB of freed CPU blocks the engine keeps for the next step to reuse (0 = none)", &c.local.cpu_cache_mb),
  };
}

void CheckTable(const toml::table& table, const std::string& prefix, const std::set<std::string>& known) {
  for (const auto& [k, v] : table) {
    const std::string key = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
    if (key == "routing" || key == "pricing") {
      if (!v.is_table()) throw std::runtime_error("config: " + key + " must be a table");
      continue;
    }
    if (v.is_table()) {
      CheckTable(*v.as_table(), key, known);
      continue;
    }
    if (!known.count(key)) throw std::runtime_error("config: unknown key '" + key + "'");
  }
}

// [pricing]: scalar factors and three model/tier -> credits tables; anything else is an error.
void ApplyPricing(const toml::table& pricing, billing::PriceTable& prices) {
  auto credits = [](const toml::node& n, const std::string& key) {
    auto v = n.value<int64_t>();
    if (!v || *v < 0) throw std::runtime_error("config: pricing." + key + " must be a non-negative integer");
    return *v;
  };
  for (const auto& [k, v] : pricing) {
    const std::string key(k.str());
    if (key == "image_4k_factor") {
      prices.image_4k_factor = credits(v, key);
    } else if (key == "edit_max_seconds") {
      prices.edit_max_seconds = credits(v, key);
    } else if (key == "per_image" || key == "t2v_per_second" || key == "edit_per_second") {
      auto table = v.as_table();
      if (!table) throw std::runtime_error("config: pricing." + key + " must be a table");
      auto& target = key == "per_image" ? prices.per_image
                     : key == "t2v_per_second" ? prices.t2v_per_second : prices.edit_per_second;
      for (const auto& [name, price] : *table) {
        target[std::string(name.str())] = credits(price, key + "." + std::string(name.str()));
      }
    } else {
      throw std::runtime_error("config: unknown key 'pricing." + key + "'");
    }
  }
}

// "a, b,c" -> {"a", "b", "c"}; empty items are dropped.
std::vector<std::string> CommaList(std::string_view list) {
  std::vector<std::string> out;
  while (!list.empty()) {
    const auto comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return out;
}

// "1,2.5,4" (seconds) -> milliseconds.
std::vector<int64_t> MillisecondList(std::string_view list, const std::string& key) {
  std::vector<int64_t> out;
  for (const std::string& item : CommaList(list)) {
    double seconds = -1;
    auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), seconds);
    if (ec != std::errc() || end != item.data() + item.size() || seconds < 0) {
      throw std::runtime_error(key + " must be a comma-separated list of seconds");
    }
    out.push_back(static_cast<int64_t>(seconds * 1000));
  }
  return out;
}

void FinishDashScope(Config& config) {
  auto& ds = config.dashscope;
  if (config.dashscope_base_url == "singapore") {
    ds.base_url = providers::kDashScopeSingapore;
  } else if (config.dashscope_base_url == "beijing") {
    ds.base_url = providers::kDashScopeBeijing;
  } else {
    ds.base_url = config.dashscope_base_url;
  }
  ds.poll_schedule_ms = MillisecondList(config.dashscope_poll_schedule_s, "providers.dashscope.poll_schedule_s");
  if (ds.poll_schedule_ms.empty()) throw std::runtime_error("providers.dashscope.poll_schedule_s must not be empty");
  ds.task_timeout_ms = config.dashscope_task_timeout_s * 1000;
  if (config.dashscope_queries_per_second < 1) {
    throw std::runtime_error("providers.dashscope.queries_per_second must be at least 1");
  }
  ds.queries_per_second = static_cast<double>(config.dashscope_queries_per_second);
  if (const char* env = std::getenv(config.dashscope_api_key_env.c_str()); env && *env) {
    ds.api_key = env;
  } else if (!config.dashscope_api_key_file.empty()) {
    std::ifstream in(config.dashscope_api_key_file);
    if (!in) throw std::runtime_error("cannot read providers.dashscope.api_key_file " + config.dashscope_api_key_file);
    std::getline(in, ds.api_key);
    while (!ds.api_key.empty() && std::isspace(static_cast<unsigned char>(ds.api_key.back()))) ds.api_key.pop_back();
  }
  config.dashscope_enabled = !ds.api_key.empty();
}

}  // namespace

void AddServeOptions(CLI::App& cmd, Config& config) {
  cmd.add_option("--config", config.config_file, "TOML config file")->envname("WANSERVE_CONFIG");
  for (auto& spec : Specs(config)) {
    spec.add_flag(cmd, FlagName(spec.key))->envname(EnvName(spec.key));
  }
}

void FinishConfig(CLI::App& cmd, Config& config) {
  if (!config.config_file.empty()) {
    toml::table table;
    try {
      table = toml::parse_file(config.config_file);
    } catch (const toml::parse_error& e) {
      throw std::runtime_error("config: " + config.config_file + ": " + std::string(e.description()));
    }
    auto specs = Specs(config);
    std::set<std::string> known;
    for (const auto& s : specs) known.insert(s.key);
    CheckTable(table, "", known);
    for (const auto& s : specs) {
      // Flags and environment variables win over the file.
      if (cmd.get_option(FlagName(s.key))->count() > 0) continue;
      if (auto node = table.at_path(s.key); node) s.from_toml(*node.node());
    }
    if (auto pricing = table["pricing"].as_table()) ApplyPricing(*pricing, config.prices);
    if (auto routing = table["routing"].as_table()) {
      for (const auto& [model, list] : *routing) {
        auto arr = list.as_array();
        if (!arr) throw std::runtime_error("config: routing." + std::string(model.str()) + " must be a list");
        std::vector<std::string> names;
        for (const auto& n : *arr) {
          auto s = n.value<std::string>();
          if (!s) throw std::runtime_error("config: routing entries must be provider names");
          names.push_back(*s);
        }
        config.routing[std::string(model.str())] = names;
      }
    }
  }
  config.listen_address = Listen(config.listen, "listen");
  config.http.host = config.listen_address.host;
  config.http.port = config.listen_address.port;
  if (config.listen_address.wildcard && config.public_url.empty()) {
    // Links to http://0.0.0.0:… reach nobody: the clients' name for this node must be said.
    throw std::runtime_error("listen " + config.listen +
                             " takes connections on every interface: set public_url (--public-url) to the URL "
                             "clients reach this server at, e.g. https://wan.example.com, so output links name it");
  }
  if (config.role != "all" && config.role != "api" && config.role != "worker") {
    throw std::runtime_error("role must be api, worker or all");
  }
  if (config.store_max_connections < 1) throw std::runtime_error("store.max_connections must be at least 1");
  if (config.http.max_connections < 1) throw std::runtime_error("http.max_connections must be at least 1");
  if (config.body_budget_mb < 1) throw std::runtime_error("http.body_budget_mb must be at least 1");
  config.http.body_budget = static_cast<size_t>(config.body_budget_mb) << 20;
  if (config.store_synchronous != "normal" && config.store_synchronous != "full") {
    throw std::runtime_error("store.synchronous must be normal or full");
  }
  // Nodes of a shared store may serve different models: each claims only what it can run.
  config.workers.claim_only_served = !config.store_url.empty();
  if (!config.files_listen.empty()) {
    api::ServerOptions files = config.http;
    const ListenAddress address = Listen(config.files_listen, "files.listen");
    files.host = address.host;
    files.port = address.port;
    config.files_http = files;
  }
  if (config.files_max_mb < 1 || config.files_max_mb > 100) {
    throw std::runtime_error("files.max_file_mb must be from 1 to 100 (the largest input any model takes)");
  }
  if (config.files_max_per_key < 1) throw std::runtime_error("files.max_files_per_key must be at least 1");

  auto allow = net::ParseAllowList(config.allow_network);
  if (!allow.ok()) throw std::runtime_error("allow_network: " + allow.error().message);
  config.outbound.allowlist = *allow;
  config.outbound.extra_ca_file = config.outbound_ca_file;
  config.callbacks.timeout_ms = config.callback_timeout_s * 1000;
  if (config.callback_timeout_s < 1) throw std::runtime_error("callbacks.timeout_s must be at least 1");
  config.callbacks.retry_delays_ms = MillisecondList(config.callback_retry_schedule_s, "callbacks.retry_schedule_s");
  if (config.callback_retry_for_s < 0 || config.callback_disable_endpoint_after_s < 0) {
    throw std::runtime_error("callbacks.retry_for_s and callbacks.disable_endpoint_after_s must not be negative");
  }
  config.callbacks.retry_for_ms = config.callback_retry_for_s * 1000;
  config.callbacks.disable_endpoint_after_ms = config.callback_disable_endpoint_after_s * 1000;
  FinishDashScope(config);
  FinishBlobs(config);
  if (!config.secret.empty() && config.secret.size() < 32) throw std::runtime_error("secret must be at least 32 characters");
  config.local.models = CommaList(config.local_models);
  auto presets = engine::ResolvePresetNames(config.local.models);
  if (!presets.ok()) throw std::runtime_error("providers.local.model: " + presets.error().message);
  // A preset without its weights would fail every task it takes: refuse to start instead.
  for (const engine::Preset* preset : *presets) {
    if (auto files = engine::LocatePresetFiles(*preset, config.local.weights_dir); !files.ok()) {
      throw std::runtime_error("providers.local: " + files.error().message + "\n(fetch them with `wanserve models pull " +
                               preset->name + "`; docs/engine.md)");
    }
  }
  if (config.local.edit_strength < 0 || config.local.edit_strength > 1) {
    throw std::runtime_error("providers.local.edit_strength must be in (0, 1] (0 = the default)");
  }
  if (auto names = engine::CheckPlacementNames(config.local.device, config.local.precision); !names.ok()) {
    throw std::runtime_error("providers.local." + names.error().message);
  }
  const std::map<std::string, bool> enabled{{"dashscope", config.dashscope_enabled},
                                            {"local", !config.local.models.empty()},
                                            {"testpattern", config.testpattern.enabled}};
  if (config.routing.empty()) {
    auto& order = config.routing["*"];
    for (const char* name : {"dashscope", "local", "testpattern"}) {
      if (enabled.at(name)) order.push_back(name);
    }
  }
  for (const auto& [model, names] : config.routing) {
    for (const auto& name : names) {
      auto it = enabled.find(name);
      if (it == enabled.end()) throw std::runtime_error("routing." + model + ": unknown provider " + name);
      if (!it->second) {
        throw std::runtime_error("routing." + model + ": provider " + name + " is not enabled (" +
                                 (name == "dashscope"   ? "no DashScope API key was found"
                                  : name == "local"     ? "providers.local.model names no preset"
                                                        : "providers.testpattern.enabled is false") +
                                 ")");
      }
    }
  }
}

}  // namespace wanserve::cli
