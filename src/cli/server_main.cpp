#include "cli/server_main.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

#include "api/admin_routes.h"
#include "api/api_context.h"
#include "api/auth.h"
#include "api/callback_payloads.h"
#include "api/dialects/dashscope/dashscope.h"
#include "api/dialects/market/market.h"
#include "api/dialects/skills_video/skills_video.h"
#include "api/dialects/unified/unified.h"
#include "api/playground.h"
#include "api/router.h"
#include "api/server.h"
#include "api/system_routes.h"
#include "api/uploaded_files.h"
#include "cli/blob_stores.h"
#include "cli/data_dir.h"
#include "cli/service_manager.h"
#include "common/build_info.h"
#include "common/metrics.h"
#include "common/process_stats.h"
#include "media/url_signer.h"
#include "tasks/leftover_sweeper.h"
#include "tasks/output_sweeper.h"
#include "tasks/output_writer.h"
#include "tasks/task_service.h"
#include "tasks/upload_sweeper.h"
#include "tasks/upstream_poller.h"
#include "tasks/worker_pool.h"

namespace wanserve::cli {
namespace {

// The table /readyz also gives: which provider makes which model, so a misconfiguration shows
// at start rather than as refused tasks.
void LogServingTable(const providers::ProviderRegistry& registry) {
  bool anything = false;
  for (const providers::ServingRow& row : registry.ServingTable()) {
    const std::string what = fmt::format("{} {}", row.model, core::ToString(row.capability.kind));
    if (row.provider.empty()) {
      spdlog::warn("serving {}: no provider makes it; such tasks are refused", what);
      continue;
    }
    anything = true;
    spdlog::info("serving {}: {} ({}{}): {}", what, row.provider, row.capability.engine,
                 row.for_tests_only ? ", test only" : "", row.capability.sizes);
  }
  if (!anything) {
    spdlog::error("no provider is configured: every task is refused and /readyz says not ready "
                  "(configure providers.local.model or a DashScope key; docs/configuration.md)");
  }
}

}  // namespace

int RunServer(const Config& config) {
  spdlog::set_level(spdlog::level::from_str(config.log_level));
  // Signals are taken by sigwait below, never by a thread in the middle of a request.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  // A peer that hangs up mid-write (an outbound TLS connection in particular) must be an
  // error value, not the end of the process.
  std::signal(SIGPIPE, SIG_IGN);

  auto data = OpenDataDir(config.data, {config.store_url, static_cast<int>(config.store_max_connections),
                                        config.store_synchronous == "full"});
  if (!data.ok()) {
    spdlog::error("{}", data.error().message);
    return 1;
  }
  auto clock = MakeSystemClock();
  MetricsRegistry metrics;
  metrics.Describe("wanserve_build_info", "gauge", "the running build: version (git describe) and role; always 1");
  metrics.SetGauge("wanserve_build_info", {{"version", BuildVersion()}, {"role", config.role}}, 1);
  AddProcessMetrics(metrics);
  auto stores = OpenBlobStores(config, data->root);
  if (!stores.ok()) {
    spdlog::error("blobs: {}", stores.error().message);
    return 1;
  }
  const media::BlobStore& blobs = *stores->outputs;
  const media::BlobStore& uploads = *stores->uploads;
  media::UrlSigner signer(config.secret.empty() ? data->secret : config.secret);

  std::unique_ptr<net::OutboundClient> outbound;
  try {
    outbound = std::make_unique<net::OutboundClient>(config.outbound);
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return 1;
  }

  providers::ProviderRegistry registry(clock);
  if (config.dashscope_enabled) {
    registry.Add(providers::MakeDashScopeProvider(config.dashscope, *outbound));
    spdlog::info("provider dashscope: {}", config.dashscope.base_url);
  }
  if (!config.local.models.empty()) {
    providers::LocalEngineOptions local_options = config.local;
    local_options.metrics = &metrics;
    auto local = providers::MakeLocalProvider(local_options);
    if (!local.ok()) {
      spdlog::error("{}", local.error().message);
      return 1;
    }
    registry.Add(std::move(*local));
    spdlog::info("provider local: {}{}", config.local_models,
                 config.local.weights_dir.empty() ? "" : " from " + config.local.weights_dir);
  }
  if (config.testpattern.enabled) {
    registry.Add(providers::MakeTestPatternProvider(config.testpattern));
    spdlog::warn("provider testpattern is enabled: its tasks get test patterns, not generated media");
  }
  for (const auto& [model, names] : config.routing) registry.Route(model, names);
  LogServingTable(registry);

  tasks::OutputWriter writer(blobs);
  tasks::WorkerPool pool(*data->store, registry, writer, clock, metrics, config.workers);
  tasks::UpstreamPoller poller(*data->store, registry, writer, clock, metrics, config.poller);
  tasks::TaskService service(*data->store, registry, clock, [&pool] { pool.Notify(); },
                             tasks::TaskCacheOptions{.fresh_ms = config.query_cache_ms,
                                                     .links_ttl_ms = config.link_ttl_hours * 3600 * 1000},
                             config.billing_enabled ? std::optional(config.prices) : std::nullopt);
  media::OwnLinks own_links({&blobs, &uploads}, signer, config.public_url, clock);
  api::ApiContext ctx{service,       signer, clock, config.public_url, config.link_ttl_hours * 3600 * 1000,
                      data->store.get(), outbound.get(), &own_links, &uploads, data->store.get()};
  ctx.file_api_max_bytes = config.files_max_mb << 20;
  ctx.delivery = config.delivery;
  ctx.file_api_max_files = config.files_max_per_key;
  own_links.SetFileLookup(api::kFileDownloadPrefix, [store = data->store.get(), clock](const std::string& id) {
    return api::DownloadableFileBlob(*store, id, clock->NowMs());
  });
  media::InputFetcher inputs(*outbound, own_links, data->root / "scratch");
  pool.UseInputs(&inputs);
  if (config.billing_enabled) pool.UsePrices(&config.prices);
  callbacks::CallbackDispatcher dispatcher(*data->store, *outbound, api::MakeCallbackRenderer(ctx), clock, metrics,
                                           config.callbacks);
  pool.OnTaskFinished([&dispatcher] { dispatcher.Notify(); });
  poller.OnTaskFinished([&dispatcher] { dispatcher.Notify(); });
  // A worker node answers health and metrics only; the APIs are the api nodes' (docs/scale-out.md).
  const bool serves_api = config.role != "worker";
  const bool runs_tasks = config.role != "api";
  api::Router router;
  api::RegisterSystemRoutes(router, {.store = *data->store,
                                     .blobs = blobs,
                                     .signer = signer,
                                     .metrics = metrics,
                                     .clock = clock,
                                     .providers = registry,
                                     .uploads = &uploads,
                                     .delivery = config.delivery});
  api::Router files_router;
  api::Authenticator auth(*data->store, clock, config.key_cache_ms);
  if (serves_api) {
    api::RegisterPlayground(router);
    api::dialects::skills_video::Register(router, ctx);
    api::dialects::unified::Register(router, ctx);
    api::dialects::market::Register(router, ctx);
    api::dialects::dashscope::Register(router, ctx);
    // The providers' files APIs, on the main listener and, when configured, a files listener.
    for (api::Router* r : {&router, &files_router}) {
      api::dialects::market::RegisterFiles(*r, ctx);
      api::dialects::unified::RegisterFiles(*r, ctx);
      api::dialects::dashscope::RegisterUploads(*r, ctx);
    }
    api::RegisterAdminRoutes(router, {*data->store, clock, auth, &outbound->policy()});
  }

  const std::string scheme = config.http.tls_cert_file.empty() ? "http" : "https";
  api::HttpServer server(config.http, router, auth, metrics);
  auto port = server.Bind();
  if (!port.ok()) {
    spdlog::error("{}", port.error().message);
    return 1;
  }
  std::unique_ptr<api::HttpServer> files_server;
  std::string files_line;
  if (config.files_http) {
    files_server = std::make_unique<api::HttpServer>(*config.files_http, files_router, auth, metrics);
    auto files_port = files_server->Bind();
    if (!files_port.ok()) {
      spdlog::error("files.listen: {}", files_port.error().message);
      return 1;
    }
    files_line = fmt::format("wanserve files APIs also on {}://{}\n", scheme,
                             ListenAddress{config.files_http->host, 0, false}.Authority(*files_port));
  }
  if (ctx.public_base_url.empty()) ctx.public_base_url = scheme + "://" + config.listen_address.Authority(*port);
  own_links.SetBaseUrl(ctx.public_base_url);
  std::unique_ptr<store::QueueWatch> queue_watch;
  if (runs_tasks) {
    // Submits on other nodes wake this one's workers (a store shared by nodes tells of them).
    queue_watch = data->store->WatchQueue([&pool] { pool.Notify(); });
    pool.Start();
    poller.Start();
  }
  dispatcher.Start();
  server.Run();
  if (files_server) files_server->Run();
  // The line scripts and tests wait for; keep its shape.
  fmt::print("wanserve listening on {}://{} (data {})\n{}", scheme, config.listen_address.Authority(*port), data->root.string(),
             files_line);
  spdlog::info("role {}: {}; store {}", config.role,
               serves_api && runs_tasks ? "serves the APIs and runs tasks"
               : serves_api             ? "serves the APIs, runs no tasks"
                                        : "runs tasks; HTTP for health and metrics only",
               config.store_url.empty() ? "SQLite in the data folder" : "PostgreSQL");
  spdlog::info("outputs and uploads in {}", stores->description);
  std::fflush(stdout);
  NotifyServiceManager(fmt::format("READY=1\nSTATUS=listening on {}://{}, role {}", scheme, config.listen_address.Authority(*port),
                                   config.role));

  tasks::OutputSweeper sweeper(*data->store, blobs, clock, config.link_ttl_hours * 3600 * 1000);
  // A blob without a record is kept a day past the longest any upload API grants.
  const int64_t orphan_upload_age_ms =
      std::max<int64_t>(api::kLongestUploadRetentionMs, ctx.link_ttl_ms) + 24LL * 3600 * 1000;
  tasks::UploadSweeper upload_sweeper(*data->store, uploads, clock, orphan_upload_age_ms);
  const tasks::LeftoverSweeper leftover_sweeper({&blobs, &uploads}, inputs, *data->store);
  std::mutex sweep_mu;
  std::condition_variable sweep_cv;
  bool stop_sweeping = false;
  std::thread sweep_thread([&] {
    std::unique_lock lock(sweep_mu);
    int64_t last_reconcile_ms = 0;
    while (!stop_sweeping) {
      lock.unlock();
      auto swept = sweeper.SweepOnce();
      if (!swept.ok()) spdlog::warn("output sweep failed: {}", swept.error().message);
      else if (*swept > 0) spdlog::info("expired the outputs of {} task(s)", *swept);
      if (runs_tasks && clock->NowMs() - last_reconcile_ms >= config.reconcile_interval_s * 1000) {
        last_reconcile_ms = clock->NowMs();
        auto orphans = sweeper.ReconcileOnce(config.reconcile_interval_s * 1000);
        if (!orphans.ok()) spdlog::warn("output reconciliation failed: {}", orphans.error().message);
        else if (*orphans > 0) spdlog::info("deleted {} output file(s) no task records", *orphans);
      }
      const auto leftovers = leftover_sweeper.SweepOnce();
      if (leftovers.partial_files + leftovers.input_folders > 0) {
        spdlog::info("removed {} half-written file(s) and {} input folder(s) left by a crash", leftovers.partial_files,
                     leftovers.input_folders);
      }
      auto pruned = data->store->PruneIdempotencyKeys(clock->NowMs() - tasks::kIdempotencyWindowMs);
      if (!pruned.ok()) spdlog::warn("idempotency key sweep failed: {}", pruned.error().message);
      auto uploads_swept = upload_sweeper.SweepOnce();
      if (!uploads_swept.ok()) spdlog::warn("upload sweep failed: {}", uploads_swept.error().message);
      else if (*uploads_swept > 0) spdlog::info("deleted {} expired upload(s)", *uploads_swept);
      lock.lock();
      sweep_cv.wait_for(lock, std::chrono::seconds(config.sweep_interval_s), [&] { return stop_sweeping; });
    }
  });

  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("received signal {}; shutting down", sig);
  NotifyServiceManager("STOPPING=1\nSTATUS=draining requests and handing running tasks back");
  server.Shutdown();
  if (files_server) files_server->Shutdown();
  queue_watch.reset();
  if (runs_tasks) {
    pool.Stop();
    poller.Stop();
  }
  dispatcher.Stop();
  {
    std::lock_guard lock(sweep_mu);
    stop_sweeping = true;
  }
  sweep_cv.notify_all();
  sweep_thread.join();
  spdlog::info("stopped");
  return 0;
}

}  // namespace wanserve::cli
