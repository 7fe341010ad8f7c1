#pragma once
// Generated files on the local filesystem under <data>/blobs. Blob ids are random and carry
// their extension ("3f9c…e1.png"); anything else is refused, so no id can name a path outside
// the store.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "common/error.h"

namespace wanserve::media {

class BlobStore {
 public:
  explicit BlobStore(std::filesystem::path root);

  // A new id with the given extension ("png", "mp4", ...).
  std::string NewId(std::string_view extension) const;
  // Where the blob lives; kInvalidId if the id is not one of ours.
  Result<std::filesystem::path> PathFor(std::string_view blob_id) const;
  // Writes bytes atomically (temp file + rename).
  Result<int64_t> Write(std::string_view blob_id, std::string_view bytes) const;
  // Moves a finished file into place atomically.
  Result<int64_t> Adopt(std::string_view blob_id, const std::filesystem::path& file) const;
  // A scratch path on the same filesystem for encoders that write files.
  std::filesystem::path ScratchPath(std::string_view blob_id) const;
  Status Delete(std::string_view blob_id) const;
  // Deletes blobs last written before cutoff; returns how many.
  int DeleteOlderThan(std::filesystem::file_time_type cutoff) const;
  // Deletes half-written files (tmp/*.part) last written before cutoff: what a crash mid-write
  // leaves behind. Returns how many.
  int DeleteStalePartials(std::filesystem::file_time_type cutoff) const;

  static bool IsValidId(std::string_view blob_id);
  static std::string ContentTypeFor(std::string_view blob_id);

 private:
  std::filesystem::path root_;
};

}  // namespace wanserve::media
