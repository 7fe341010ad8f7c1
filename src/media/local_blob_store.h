#pragma once
// Blobs as files under one folder (<data>/blobs, <data>/uploads): flat keys in two-letter
// shards ("ab/ab12….png"), output keys as their own path ("<task>/<attempt>/<name>"). Every
// write is fsynced, file and folder, before it counts as stored; the scratch folder is
// <root>/tmp, on the same filesystem, so a put is a rename.
#include "media/blob_store.h"

namespace wanserve::media {

class LocalBlobStore final : public BlobStore {
 public:
  explicit LocalBlobStore(std::filesystem::path root);

  Result<int64_t> Put(std::string_view key, const std::filesystem::path& file) const override;
  Result<BlobEntry> Stat(std::string_view key) const override;
  Result<std::unique_ptr<BlobReader>> Open(std::string_view key, uint64_t offset, uint64_t length) const override;
  Status Delete(std::string_view key) const override;
  // Walks the folder (a task's own folder when the prefix is one task's): fine for the
  // embedded store's sizes; the sweeps that list everything run hourly.
  Result<std::vector<BlobEntry>> List(std::string_view prefix, std::string_view start_after,
                                      int limit) const override;
  std::optional<std::filesystem::path> LocalFile(std::string_view key) const override;

 private:
  Result<std::filesystem::path> PathFor(std::string_view key) const;
  std::filesystem::path root_;
};

}  // namespace wanserve::media
