#pragma once
// Blobs as HTTP answers: byte ranges, HEAD, and either the bytes themselves (from a local file,
// or streamed from an object store) or a redirect to a presigned URL.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "api/http.h"
#include "media/blob_store.h"

namespace wanserve::api {

// Parses a single "bytes=a-b" / "bytes=a-" / "bytes=-n" range against a file size.
// nullopt = no usable range header (serve whole file); {-1,-1} = unsatisfiable.
std::optional<std::pair<int64_t, int64_t>> ParseByteRange(const std::string& header, int64_t size);

// How blobs in a store that can presign links reach the client: streamed through this server
// (the default), or by a redirect to a presigned URL valid presigned_ttl_s seconds.
struct BlobDelivery {
  bool redirect = false;
  int64_t presigned_ttl_s = 300;
};

// The blob's bytes as a response, honouring a Range header (and HEAD); kNotFound when it is
// gone.
Result<HttpResponse> ServeBlob(const HttpRequest& req, const media::BlobStore& store, const std::string& key,
                               std::string content_type, const BlobDelivery& delivery);

}  // namespace wanserve::api
