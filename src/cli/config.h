#pragma once
// Server configuration: embedded defaults < TOML file < WANSERVE_* environment < flags.
// Unknown keys in the file are a start-up error.
#include <CLI/CLI.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "api/blob_download.h"
#include "api/server.h"
#include "billing/price_table.h"
#include "callbacks/dispatcher.h"
#include "cli/listen_address.h"
#include "net/outbound_client.h"
#include "objectstore/s3_blob_store.h"
#include "providers/dashscope/dashscope.h"
#include "providers/registry.h"
#include "tasks/upstream_poller.h"
#include "tasks/worker_pool.h"

namespace wanserve::cli {

struct Config {
  std::string listen = "127.0.0.1:8080";  // Default: loopback:8080
  std::string data = "./data";            // Default: ./data (database, secret, files)
  std::string public_url;                 // Default: http://<listen>; base of output links
  std::string log_level = "info";         // Default: info
  std::string config_file;
  // The shared PostgreSQL database of a scaled-out deployment (docs/scale-out.md). Default:
  // empty, SQLite in the data folder.
  std::string store_url;
  int64_t store_max_connections = 16;     // Default: 16 PostgreSQL connections per process
  std::string store_synchronous = "normal";  // Default: normal (SQLite); full: fsync every commit
  // What this process does: api (HTTP), worker (runs tasks), all. Default: all.
  std::string role = "all";
  int64_t body_budget_mb = 256;           // Default: 256 MiB of request bodies in flight
  api::ServerOptions http;
  tasks::WorkerOptions workers;
  providers::TestPatternOptions testpattern;
  // The local Wan engine: on when providers.local.model names presets. Default: off.
  std::string local_models;               // comma-separated preset names
  providers::LocalEngineOptions local;    // derived from the above
  int64_t link_ttl_hours = 24;            // Default: 24 h, as the seeds promise
  // The providers' files APIs are served on the main listener; files.listen adds a listener
  // that serves them alone, for clients that use a separate files host. Default: none.
  std::string files_listen;
  std::optional<api::ServerOptions> files_http;  // derived from the above
  ListenAddress listen_address;                  // derived from listen
  int64_t files_max_mb = 100;             // Default: 100 MB per file through the files APIs
  int64_t files_max_per_key = 2000;       // Default: 2000 live files per key (EvoLink quota)
  int64_t key_cache_ms = 1000;            // Default: 1 s; a revoked key stops working within it
  int64_t query_cache_ms = 250;           // Default: 250 ms staleness for polled running tasks
  int64_t sweep_interval_s = 300;         // Default: 5 min between expiry sweeps
  // Signs output links. Default: the secret file of the data folder. Nodes that share no
  // folder (outputs in an object store) set the same value on each, at least 32 characters.
  std::string secret;
  // Where outputs and uploads live. Default: the data folder; s3://bucket/prefix puts them in
  // an S3-compatible object store that every node reaches (docs/scale-out.md).
  std::string blobs_url;
  std::string blobs_s3_endpoint;          // Default: AWS S3 of the region
  std::string blobs_s3_region = "us-east-1";
  bool blobs_s3_path_style = false;       // Default: virtual-host URLs (bucket.host); MinIO wants true
  std::string blobs_s3_credentials_file;  // Default: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY only
  std::string blobs_delivery = "stream";  // Default: links stream through the server; or redirect
  int64_t blobs_presigned_ttl_s = 300;    // Default: 5 min, the life of a redirect's presigned URL
  std::optional<objectstore::S3Options> s3;  // derived from the above
  api::BlobDelivery delivery;                // derived from the above
  // Default: 1 h between reconciliations of the output files with the tasks (they list the
  // whole store); files no task records go once older than the same interval.
  int64_t reconcile_interval_s = 3600;
  bool billing_enabled = true;            // Default: on; off makes every task free
  billing::PriceTable prices;             // Default: docs/pricing.md
  // Internal ranges outbound requests may reach (CIDR list). Default: none.
  std::string allow_network;
  std::string outbound_ca_file;           // Default: none; extra roots for outbound TLS
  std::string callback_retry_schedule_s = "1,2,4";  // Default: the seeds' schedule
  int64_t callback_timeout_s = 10;        // Default: 10 s per attempt (seed rule)
  int64_t callback_retry_for_s = 0;       // Default: 0, no retries past the schedule
  int64_t callback_disable_endpoint_after_s = 86'400;  // Default: a day of failures disables an endpoint
  net::OutboundOptions outbound;          // derived from the above
  callbacks::CallbackOptions callbacks;   // derived from the above
  // DashScope: on when an API key is found (environment variable or file).
  std::string dashscope_base_url = "singapore";  // Default: singapore; or beijing, or a URL
  std::string dashscope_api_key_env = "DASHSCOPE_API_KEY";
  std::string dashscope_api_key_file;            // Default: none; read when the variable is unset
  std::string dashscope_poll_schedule_s = "2,2,3,5,5,10";
  int64_t dashscope_task_timeout_s = 3600;       // Default: 1 h
  int64_t dashscope_queries_per_second = 20;     // Default: DashScope's query limit
  providers::DashScopeOptions dashscope;         // derived from the above
  tasks::PollerOptions poller;
  bool dashscope_enabled = false;                // derived: an API key was found
  // model -> ordered provider names. Default: every model on dashscope (when enabled), then
  // local (when enabled), then testpattern (when enabled). A route naming a provider that is
  // not enabled is a start-up error.
  std::map<std::string, std::vector<std::string>> routing;
};

// Declares every option on the serve subcommand (flag + environment variable).
void AddServeOptions(CLI::App& cmd, Config& config);
// Applies the TOML file (if any) beneath what flags and environment already set, and fills
// derived defaults. Throws std::runtime_error on unknown keys or bad values.
void FinishConfig(CLI::App& cmd, Config& config);

}  // namespace wanserve::cli
