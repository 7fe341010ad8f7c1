#include "cli/blob_stores.h"

#include <fmt/format.h>

#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include "media/local_blob_store.h"

namespace wanserve::cli {
namespace {

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

std::string Trimmed(std::string s) {
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t\r") - first + 1);
}

// The [default] profile of an AWS shared credentials file.
objectstore::Credentials ReadCredentialsFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("blobs.s3_credentials_file: cannot read " + path);
  objectstore::Credentials c;
  bool in_default = false;
  for (std::string line; std::getline(in, line);) {
    line = Trimmed(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[') {
      in_default = line == "[default]";
      continue;
    }
    const auto eq = line.find('=');
    if (!in_default || eq == std::string::npos) continue;
    const std::string key = Trimmed(line.substr(0, eq));
    const std::string value = Trimmed(line.substr(eq + 1));
    if (key == "aws_access_key_id") c.access_key_id = value;
    if (key == "aws_secret_access_key") c.secret_access_key = value;
    if (key == "aws_session_token") c.session_token = value;
  }
  return c;
}

// The object store's endpoint is the operator's choice, as the database's address is: its own
// client may reach it (a MinIO on the LAN), on its port and by its name whatever that
// resolves to at each connection, while the client of user-chosen URLs may not.
Result<net::AllowEntry> EndpointEntry(const std::string& endpoint) {
  std::string authority = endpoint.substr(endpoint.find("://") + 3);
  authority = authority.substr(0, authority.find('/'));
  const bool has_port = authority.starts_with('[') ? authority.find("]:") != std::string::npos
                                                   : authority.find(':') != std::string::npos;
  if (!has_port) authority += endpoint.starts_with("https://") ? ":443" : ":80";
  return net::ParseAllowEntry(authority);
}

}  // namespace

void FinishBlobs(Config& config) {
  if (config.blobs_delivery != "stream" && config.blobs_delivery != "redirect") {
    throw std::runtime_error("blobs.delivery must be stream or redirect");
  }
  if (config.blobs_presigned_ttl_s < 1 || config.blobs_presigned_ttl_s > 7 * 24 * 3600) {
    throw std::runtime_error("blobs.presigned_ttl_s must be from 1 s to 7 days (S3's longest)");
  }
  config.delivery = {config.blobs_delivery == "redirect", config.blobs_presigned_ttl_s};
  if (config.blobs_url.empty()) return;
  objectstore::S3Options s3;
  if (auto parsed = objectstore::ParseS3Url(config.blobs_url, s3); !parsed.ok()) {
    throw std::runtime_error("blobs.url: " + parsed.error().message);
  }
  s3.region = config.blobs_s3_region;
  s3.path_style = config.blobs_s3_path_style;
  s3.endpoint = config.blobs_s3_endpoint.empty() ? objectstore::AwsEndpoint(s3.region) : config.blobs_s3_endpoint;
  while (!s3.endpoint.empty() && s3.endpoint.back() == '/') s3.endpoint.pop_back();
  if (!s3.endpoint.starts_with("http://") && !s3.endpoint.starts_with("https://")) {
    throw std::runtime_error("blobs.s3_endpoint must be an http:// or https:// URL");
  }
  s3.credentials = {Env("AWS_ACCESS_KEY_ID"), Env("AWS_SECRET_ACCESS_KEY"), Env("AWS_SESSION_TOKEN")};
  if (s3.credentials.access_key_id.empty() && !config.blobs_s3_credentials_file.empty()) {
    s3.credentials = ReadCredentialsFile(config.blobs_s3_credentials_file);
  }
  if (s3.credentials.access_key_id.empty() || s3.credentials.secret_access_key.empty()) {
    throw std::runtime_error(
        "blobs.url is set but no credentials were found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or "
        "blobs.s3_credentials_file");
  }
  config.s3 = s3;
}

Result<BlobStores> OpenBlobStores(const Config& config, const std::filesystem::path& data_root) {
  BlobStores stores;
  if (!config.s3) {
    stores.outputs = std::make_unique<media::LocalBlobStore>(data_root / "blobs");
    stores.uploads = std::make_unique<media::LocalBlobStore>(data_root / "uploads");
    stores.description = "the data folder";
    return stores;
  }
  net::OutboundOptions options = config.outbound;
  ASSIGN_OR_RETURN(auto endpoint, EndpointEntry(config.s3->endpoint));
  options.allowlist.push_back(std::move(endpoint));
  options.user_agent = "wanserve-objectstore";
  options.serves_clients = false;
  stores.client = std::make_unique<net::OutboundClient>(options);
  auto outputs = std::make_unique<objectstore::S3BlobStore>(*config.s3, "outputs/", data_root / "blobs" / "tmp",
                                                            *stores.client);
  RETURN_IF_ERROR(outputs->CheckReachable());
  stores.outputs = std::move(outputs);
  stores.uploads = std::make_unique<objectstore::S3BlobStore>(*config.s3, "uploads/", data_root / "uploads" / "tmp",
                                                              *stores.client);
  stores.description = fmt::format("{} at {} (links {})", config.blobs_url, config.s3->endpoint,
                                   config.delivery.redirect ? "redirect to presigned URLs" : "stream through this server");
  return stores;
}

}  // namespace wanserve::cli
