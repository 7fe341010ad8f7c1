#pragma once
// The parts of S3's XML answers wanserve reads (libxml2).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace wanserve::objectstore {

struct ListedObject {
  std::string key;
  int64_t bytes = 0;
  int64_t modified_ms = 0;
};

struct ListPage {
  std::vector<ListedObject> objects;
  bool truncated = false;
};

// ListObjectsV2's ListBucketResult.
Result<ListPage> ParseListObjects(std::string_view xml);
// InitiateMultipartUploadResult's UploadId.
Result<std::string> ParseUploadId(std::string_view xml);
// "Code: Message" of an Error document; empty when the body is not one.
std::string ParseErrorSummary(std::string_view xml);
// ISO 8601 "2026-11-30T13:00:00.000Z" to Unix ms.
std::optional<int64_t> ParseIsoTimeMs(std::string_view text);

}  // namespace wanserve::objectstore
