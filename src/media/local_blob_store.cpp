#include "media/local_blob_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>

namespace wanserve::media {
namespace {

// A failed fsync leaves the kernel free to have dropped the data it could not write (and to
// report success to the next fsync): continuing would publish a file that may be gone after a
// power loss. The process stops instead, as PostgreSQL does; its tasks are retried elsewhere
// or after the restart.
[[noreturn]] void FailedSync(const std::filesystem::path& p, int error) {
  spdlog::critical("fsync of {} failed ({}); stopping rather than go on after a write that may be lost", p.string(),
                   std::strerror(error));
  std::abort();
}

// fsync a file (or a folder: its entries) so that what follows cannot outlive it on disk.
void Sync(const std::filesystem::path& p, bool directory) {
  const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC | (directory ? O_DIRECTORY : 0));
  if (fd < 0) FailedSync(p, errno);
  if (::fsync(fd) != 0) FailedSync(p, errno);
  ::close(fd);
}

int64_t UnixMs(std::filesystem::file_time_type t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::file_clock::to_sys(t).time_since_epoch())
      .count();
}

class FileReader final : public BlobReader {
 public:
  FileReader(std::ifstream file, uint64_t length) : file_(std::move(file)), left_(length) {}
  Result<size_t> Read(char* buffer, size_t capacity) override {
    const auto want = static_cast<std::streamsize>(std::min<uint64_t>(capacity, left_));
    if (want == 0) return size_t{0};
    if (!file_.read(buffer, want)) return MakeError(ErrorCode::kUnavailable, "the file is shorter than it was");
    left_ -= static_cast<uint64_t>(want);
    return static_cast<size_t>(want);
  }

 private:
  std::ifstream file_;
  uint64_t left_;
};

// Adds the blobs in folder to out, their keys being key_prefix + file name.
void AddFiles(const std::filesystem::path& folder, const std::string& key_prefix, std::vector<BlobEntry>& out) {
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(folder, ec); !ec && it != std::filesystem::directory_iterator();
       it.increment(ec)) {
    std::error_code fec;
    if (!it->is_regular_file(fec)) continue;
    std::string key = key_prefix + it->path().filename().string();
    const bool in_its_place =
        key_prefix.empty() ? key.compare(0, 2, folder.filename().string()) == 0 : BlobStore::ParseOutputKey(key).has_value();
    if (!BlobStore::IsValidKey(key) || !in_its_place) continue;
    const auto size = it->file_size(fec);
    const auto time = it->last_write_time(fec);
    if (fec) continue;  // deleted meanwhile
    out.push_back({std::move(key), static_cast<int64_t>(size), UnixMs(time)});
  }
}

// The blobs of one task: <root>/<task>/<attempt>/<name>.
void AddTask(const std::filesystem::path& root, const std::string& task, std::vector<BlobEntry>& out) {
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(root / task, ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    if (it->is_directory()) AddFiles(it->path(), task + "/" + it->path().filename().string() + "/", out);
  }
}

}  // namespace

LocalBlobStore::LocalBlobStore(std::filesystem::path root) : BlobStore(root / "tmp"), root_(std::move(root)) {}

Result<std::filesystem::path> LocalBlobStore::PathFor(std::string_view key) const {
  if (!IsValidKey(key)) return MakeError(ErrorCode::kInvalidId, "not a blob key");
  if (ParseOutputKey(key)) return root_ / std::string(key);
  return root_ / std::string(key.substr(0, 2)) / std::string(key);
}

Result<int64_t> LocalBlobStore::Put(std::string_view key, const std::filesystem::path& file) const {
  std::error_code ec;
  auto dest = PathFor(key);
  if (!dest.ok()) {
    std::filesystem::remove(file, ec);
    return dest.error();
  }
  // The file's data, then its name in its folder (and each new folder's in its parent), are on
  // disk before the task that names the blob is recorded as done.
  Sync(file, false);
  // Twice: a sweep deleting another attempt's last file may remove the task's folder just
  // as this one is made.
  for (int tries = 0; tries < 2; ++tries) {
    std::vector<std::filesystem::path> created;
    for (auto p = dest->parent_path(); p != root_ && !std::filesystem::exists(p); p = p.parent_path()) {
      created.push_back(p);
    }
    std::filesystem::create_directories(dest->parent_path(), ec);
    for (const auto& dir : created) Sync(dir.parent_path(), true);
    std::filesystem::rename(file, *dest, ec);
    if (ec != std::errc::no_such_file_or_directory) break;
  }
  if (ec) {
    std::error_code rec;
    std::filesystem::remove(file, rec);
    return MakeError(ErrorCode::kUnavailable, "cannot store blob: " + ec.message());
  }
  Sync(dest->parent_path(), true);
  auto size = std::filesystem::file_size(*dest, ec);
  if (ec) return MakeError(ErrorCode::kUnavailable, "cannot stat blob: " + ec.message());
  return static_cast<int64_t>(size);
}

Result<BlobEntry> LocalBlobStore::Stat(std::string_view key) const {
  ASSIGN_OR_RETURN(auto path, PathFor(key));
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return MakeError(ErrorCode::kNotFound, "no such blob");
  const auto time = std::filesystem::last_write_time(path, ec);
  if (ec) return MakeError(ErrorCode::kNotFound, "no such blob");
  return BlobEntry{std::string(key), static_cast<int64_t>(size), UnixMs(time)};
}

Result<std::unique_ptr<BlobReader>> LocalBlobStore::Open(std::string_view key, uint64_t offset,
                                                         uint64_t length) const {
  ASSIGN_OR_RETURN(auto path, PathFor(key));
  std::ifstream file(path, std::ios::binary);
  if (!file) return MakeError(ErrorCode::kNotFound, "no such blob");
  file.seekg(static_cast<std::streamoff>(offset));
  if (!file) return MakeError(ErrorCode::kNotFound, "the blob is shorter than the range");
  return std::unique_ptr<BlobReader>(std::make_unique<FileReader>(std::move(file), length));
}

Status LocalBlobStore::Delete(std::string_view key) const {
  ASSIGN_OR_RETURN(auto path, PathFor(key));
  std::error_code ec;
  std::filesystem::remove(path, ec);
  if (ec) return MakeError(ErrorCode::kUnavailable, "cannot delete blob: " + ec.message());
  if (ParseOutputKey(key)) {
    // Empty attempt and task folders go with their last file; a folder that still has files
    // (or gained one meanwhile) is not empty and stays.
    std::filesystem::remove(path.parent_path(), ec);
    if (!ec) std::filesystem::remove(path.parent_path().parent_path(), ec);
  }
  return Status::Ok();
}

Result<std::vector<BlobEntry>> LocalBlobStore::List(std::string_view prefix, std::string_view start_after,
                                                    int limit) const {
  std::vector<BlobEntry> all;
  const auto slash = prefix.find('/');
  if (slash != std::string_view::npos) {
    AddTask(root_, std::string(prefix.substr(0, slash)), all);
  } else {
    std::error_code ec;
    for (auto it = std::filesystem::directory_iterator(root_, ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
      if (!it->is_directory()) continue;
      const std::string name = it->path().filename().string();
      if (name == "tmp") continue;
      AddFiles(it->path(), "", all);  // a shard of flat keys ("ab/ab12….png")
      AddTask(root_, name, all);      // a task's folder
    }
  }
  std::erase_if(all, [&](const BlobEntry& b) { return !b.key.starts_with(prefix) || b.key <= start_after; });
  std::sort(all.begin(), all.end(), [](const BlobEntry& a, const BlobEntry& b) { return a.key < b.key; });
  if (all.size() > static_cast<size_t>(limit)) all.resize(static_cast<size_t>(limit));
  return all;
}

std::optional<std::filesystem::path> LocalBlobStore::LocalFile(std::string_view key) const {
  auto path = PathFor(key);
  if (!path.ok()) return std::nullopt;
  return *path;
}

}  // namespace wanserve::media
