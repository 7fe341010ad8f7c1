#pragma once
// What dialect handlers share: the task service and how to make signed output links.
#include <memory>
#include <string>

#include "common/clock.h"
#include "core/task.h"
#include <nlohmann/json.hpp>

#include "api/blob_download.h"
#include "api/rendered_tasks.h"
#include "media/inputs.h"
#include "media/url_signer.h"
#include "net/outbound_client.h"
#include "store/task_store.h"
#include "tasks/task_service.h"

namespace wanserve::api {

struct ApiContext {
  tasks::TaskService& tasks;
  const media::UrlSigner& signer;
  std::shared_ptr<Clock> clock;
  std::string public_base_url;               // e.g. "http://127.0.0.1:8080"
  int64_t link_ttl_ms = 24 * 3600 * 1000;    // links live 24 h after completion
  store::AccountStore* accounts = nullptr;   // credit balances for the credits endpoints
  net::OutboundClient* outbound = nullptr;  // judges callback and media URLs at submit; URL uploads
  const media::OwnLinks* own_links = nullptr;     // our own signed links need no network
  const media::BlobStore* uploads = nullptr;      // uploaded files' bytes
  store::FileStore* files = nullptr;              // uploaded files' owners, names and lifetimes
  size_t upload_body_limit = (100 << 20) + (1 << 20);  // largest upload (video) plus multipart framing
  int64_t file_api_max_bytes = 100 << 20;              // largest file through the providers' files APIs
  int64_t file_api_max_files = 2000;                   // live files per key in the EvoLink files API
  BlobDelivery delivery = {};                          // how file downloads reach the client
  mutable RenderedTasks rendered{};                    // query answers, once per task snapshot

  // Signed link to an output; empty once the outputs expired.
  std::string OutputUrl(const core::Task& task, const core::Output& output) const;
  // Unix seconds at which the task's links stop working (0 when it has none yet).
  int64_t LinksExpireAt(const core::Task& task) const;
  // Refuses, before a task exists, URLs the outbound guard would never fetch: other schemes,
  // internal addresses in any spelling, plain-http callbacks. The error names the field of the
  // client's body that holds the URL (e.g. "input.input_urls[1]").
  Status CheckOutboundUrls(const core::GenerationRequest& request, const nlohmann::json& body) const;
};

}  // namespace wanserve::api
