#pragma once
// Blobs in an S3-compatible object store (AWS S3, MinIO, Cloudflare R2, Ceph RGW, GCS's S3
// API), under <prefix><namespace><key> of one bucket. Every request is signed here (sigv4.h)
// and sent through the guarded outbound client; bodies move in bounded pieces both ways: a
// large file is uploaded in parts, a download is read in ranged chunks, so no video sits in
// memory whole.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "media/blob_store.h"
#include "net/outbound_client.h"
#include "objectstore/sigv4.h"

namespace wanserve::objectstore {

struct S3Options {
  std::string bucket;
  std::string prefix;           // "" or ending in "/": where wanserve's objects live in the bucket
  std::string endpoint;         // "https://s3.eu-west-1.amazonaws.com", "http://minio.internal:9000"
  std::string region = "us-east-1";
  bool path_style = false;      // https://host/bucket/key instead of https://bucket.host/key
  Credentials credentials;
  int64_t part_bytes = 16 << 20;        // Default: 16 MiB; larger files go up in parts of this size
  int64_t read_chunk_bytes = 8 << 20;   // Default: 8 MiB per ranged GET of a download
  int64_t timeout_ms = 120'000;         // Default: 2 min per request
};

// "s3://bucket/some/prefix" into options.bucket and options.prefix ("some/prefix/").
Status ParseS3Url(std::string_view url, S3Options& options);
// The default endpoint of AWS S3 in a region.
std::string AwsEndpoint(const std::string& region);

class S3BlobStore final : public media::BlobStore {
 public:
  // name_space: this store's folder under the prefix ("outputs/", "uploads/").
  S3BlobStore(S3Options options, std::string name_space, std::filesystem::path scratch, net::OutboundClient& client);

  // Lists one key: kUnavailable, naming the cause (credentials, bucket, network), when the
  // store cannot be used.
  Status CheckReachable() const;

  Result<int64_t> Put(std::string_view key, const std::filesystem::path& file) const override;
  Result<media::BlobEntry> Stat(std::string_view key) const override;
  Result<std::unique_ptr<media::BlobReader>> Open(std::string_view key, uint64_t offset,
                                                  uint64_t length) const override;
  Status Delete(std::string_view key) const override;
  Result<std::vector<media::BlobEntry>> List(std::string_view prefix, std::string_view start_after,
                                             int limit) const override;
  std::optional<std::string> PresignedUrl(std::string_view key, int64_t ttl_s) const override;

  struct Call {
    std::string method = "GET";
    std::string object;  // the object's full key in the bucket; empty for the bucket itself
    Pairs query;
    Pairs headers;       // sent unsigned (Range, Content-Type)
    std::string body;
    int64_t max_response_bytes = 1 << 20;
  };
  // Signs and sends; retries what the store asks to be retried (5xx, 429, no connection)
  // twice. kNotFound for 404; kUnavailable, with the store's own error, for the rest.
  Result<net::OutboundResponse> Send(const Call& call) const;

 private:
  std::string ObjectName(std::string_view key) const { return options_.prefix + name_space_ + std::string(key); }
  SignableRequest Signable(const Call& call) const;
  std::string Url(const SignableRequest& request) const;
  Result<int64_t> PutInParts(const std::string& object, const std::filesystem::path& file, int64_t size) const;

  S3Options options_;
  std::string name_space_;
  net::OutboundClient& client_;
  std::string scheme_;  // of the endpoint
  std::string host_;    // the Host header: endpoint authority, with the bucket in front when virtual-host
};

}  // namespace wanserve::objectstore
