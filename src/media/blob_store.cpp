#include "media/blob_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "common/crypto.h"

namespace wanserve::media {
namespace {

constexpr std::string_view kExtensions[] = {"png", "jpg", "webp", "mp4", "mov", "wav", "mp3", "bmp"};

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

}  // namespace

BlobStore::BlobStore(std::filesystem::path root) : root_(std::move(root)) {
  std::filesystem::create_directories(root_ / "tmp");
}

bool BlobStore::IsValidId(std::string_view id) {
  auto dot = id.find('.');
  if (dot != 32 || id.size() < 34) return false;
  for (size_t i = 0; i < 32; ++i) {
    char c = id[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  auto ext = id.substr(33);
  for (auto e : kExtensions) {
    if (ext == e) return true;
  }
  return false;
}

std::string BlobStore::ContentTypeFor(std::string_view id) {
  auto ext = id.substr(id.find('.') + 1);
  if (ext == "png") return "image/png";
  if (ext == "jpg") return "image/jpeg";
  if (ext == "webp") return "image/webp";
  if (ext == "bmp") return "image/bmp";
  if (ext == "mp4") return "video/mp4";
  if (ext == "mov") return "video/quicktime";
  if (ext == "wav") return "audio/wav";
  if (ext == "mp3") return "audio/mpeg";
  return "application/octet-stream";
}

std::string BlobStore::NewId(std::string_view extension) const {
  return HexEncode(RandomBytes(16)) + "." + std::string(extension);
}

Result<std::filesystem::path> BlobStore::PathFor(std::string_view id) const {
  if (!IsValidId(id)) return MakeError(ErrorCode::kInvalidId, "not a blob id");
  return root_ / std::string(id.substr(0, 2)) / std::string(id);
}

std::filesystem::path BlobStore::ScratchPath(std::string_view id) const {
  return root_ / "tmp" / (std::string(id) + ".part");
}

Result<int64_t> BlobStore::Write(std::string_view id, std::string_view bytes) const {
  auto tmp = ScratchPath(id);
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!f) return MakeError(ErrorCode::kUnavailable, "cannot write " + tmp.string());
  }
  return Adopt(id, tmp);
}

Result<int64_t> BlobStore::Adopt(std::string_view id, const std::filesystem::path& file) const {
  ASSIGN_OR_RETURN(auto dest, PathFor(id));
  std::error_code ec;
  // The file's data, then its name in its folder (and the folder's in the root, when new), are
  // on disk before the task that names the blob is recorded as done.
  if (std::filesystem::create_directories(dest.parent_path(), ec)) Sync(root_, true);
  Sync(file, false);
  std::filesystem::rename(file, dest, ec);
  if (ec) return MakeError(ErrorCode::kUnavailable, "cannot store blob: " + ec.message());
  Sync(dest.parent_path(), true);
  auto size = std::filesystem::file_size(dest, ec);
  if (ec) return MakeError(ErrorCode::kUnavailable, "cannot stat blob: " + ec.message());
  return static_cast<int64_t>(size);
}

Status BlobStore::Delete(std::string_view id) const {
  ASSIGN_OR_RETURN(auto path, PathFor(id));
  std::error_code ec;
  std::filesystem::remove(path, ec);
  if (ec) return MakeError(ErrorCode::kUnavailable, "cannot delete blob: " + ec.message());
  return Status::Ok();
}

int BlobStore::DeleteStalePartials(std::filesystem::file_time_type cutoff) const {
  int deleted = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(root_ / "tmp", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file() || it->path().extension() != ".part") continue;
    std::error_code fec;
    if (it->last_write_time(fec) < cutoff && !fec && std::filesystem::remove(it->path(), fec)) ++deleted;
  }
  return deleted;
}

int BlobStore::DeleteOlderThan(std::filesystem::file_time_type cutoff) const {
  int deleted = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(root_, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file() || !IsValidId(it->path().filename().string())) continue;
    std::error_code fec;
    if (it->last_write_time(fec) < cutoff && !fec && std::filesystem::remove(it->path(), fec)) ++deleted;
  }
  return deleted;
}

}  // namespace wanserve::media
