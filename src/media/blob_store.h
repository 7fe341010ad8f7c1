#pragma once
// Where generated and uploaded files live: a local folder (the embedded default) or an
// S3-compatible object store, behind one interface. Files are made in a local scratch folder
// first (encoders write files) and then put under their key.
//
// Keys are either "<32 hex>.<ext>" (uploads, and outputs of older versions) or, for outputs,
// "<task>/<attempt>/<n>_<16 hex>.<ext>": scoped by attempt, so an attempt presumed dead never
// overwrites the winner's files and its leftovers can be found and swept. Anything else is
// refused, so no key can name a place outside the store.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace wanserve::media {

struct BlobEntry {
  std::string key;
  int64_t bytes = 0;
  int64_t modified_ms = 0;  // Unix milliseconds of the last write
};

// A blob's bytes, read in order. Blocking; Read returns 0 at the end.
class BlobReader {
 public:
  virtual ~BlobReader() = default;
  virtual Result<size_t> Read(char* buffer, size_t capacity) = 0;
};

// The parts of an output key.
struct OutputKey {
  std::string task_id;
  int attempt = 0;
};

class BlobStore {
 public:
  // scratch: a local folder for files being made; created when missing.
  explicit BlobStore(std::filesystem::path scratch);
  virtual ~BlobStore() = default;
  BlobStore(const BlobStore&) = delete;
  BlobStore& operator=(const BlobStore&) = delete;

  static bool IsValidKey(std::string_view key);
  // The task and attempt of an output key; nullopt for any other key.
  static std::optional<OutputKey> ParseOutputKey(std::string_view key);
  static std::string ContentTypeFor(std::string_view key);
  // A new flat key with the given extension ("png", "mp4", ...).
  static std::string NewId(std::string_view extension);
  // A new key for output n of this attempt of the task.
  static std::string NewOutputKey(std::string_view task_id, int attempt, size_t n, std::string_view extension);
  // The prefix under which every output key of the task lies.
  static std::string TaskPrefix(std::string_view task_id);

  // A path in the scratch folder for a file that will become this key.
  std::filesystem::path ScratchPath(std::string_view key) const;
  // Writes bytes to scratch, then puts them.
  Result<int64_t> Write(std::string_view key, std::string_view bytes) const;
  // Deletes scratch files (*.part) last written before cutoff: what a crash mid-write leaves
  // behind. Returns how many.
  int DeleteStalePartials(std::filesystem::file_time_type cutoff) const;

  // Stores the finished local file under key and removes the local file (also on failure).
  // The blob is durable when this returns. Returns its size.
  virtual Result<int64_t> Put(std::string_view key, const std::filesystem::path& file) const = 0;
  // kNotFound when there is no such blob.
  virtual Result<BlobEntry> Stat(std::string_view key) const = 0;
  // Bytes [offset, offset + length) of the blob.
  virtual Result<std::unique_ptr<BlobReader>> Open(std::string_view key, uint64_t offset, uint64_t length) const = 0;
  // Deleting a blob that is not there succeeds.
  virtual Status Delete(std::string_view key) const = 0;
  // Valid keys that start with prefix and sort after start_after, in byte order; at most limit.
  virtual Result<std::vector<BlobEntry>> List(std::string_view prefix, std::string_view start_after,
                                              int limit) const = 0;
  // The blob as a file on this machine, where the store is a local folder.
  virtual std::optional<std::filesystem::path> LocalFile(std::string_view key) const;
  // A direct download URL valid for ttl_s seconds, where the store can sign one.
  virtual std::optional<std::string> PresignedUrl(std::string_view key, int64_t ttl_s) const;

 private:
  std::filesystem::path scratch_;
};

// Now on the clock blob write times are on (the real time, Unix ms): cutoffs compared with
// BlobEntry::modified_ms are taken from it, never from a task clock.
int64_t BlobClockNowMs();
// Deletes the blobs last written before cutoff_ms (Unix ms); returns how many.
Result<int> DeleteOlderThan(const BlobStore& store, int64_t cutoff_ms);
// Copies the whole blob to a local file.
Status CopyToFile(const BlobStore& store, std::string_view key, const std::filesystem::path& dest);

}  // namespace wanserve::media
