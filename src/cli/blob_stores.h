#pragma once
// The stores of outputs and uploads the configuration names: the data folder, or an
// S3-compatible object store reached through its own guarded outbound client.
#include <filesystem>
#include <memory>
#include <string>

#include "cli/config.h"
#include "common/error.h"
#include "media/blob_store.h"
#include "net/outbound_client.h"

namespace wanserve::cli {

// Checks the blobs.* keys and derives config.s3 and config.delivery; throws on a bad value,
// as the rest of the configuration does.
void FinishBlobs(Config& config);

struct BlobStores {
  std::unique_ptr<net::OutboundClient> client;  // the object store's, when there is one
  std::unique_ptr<media::BlobStore> outputs;
  std::unique_ptr<media::BlobStore> uploads;
  std::string description;  // for the start-up log
};

// Opens both stores; with an object store, lists it once so that a wrong endpoint, bucket or
// credential stops the start with its cause.
Result<BlobStores> OpenBlobStores(const Config& config, const std::filesystem::path& data_root);

}  // namespace wanserve::cli
