#include "media/blob_store.h"

#include <fmt/format.h>

#include <charconv>
#include <chrono>
#include <fstream>

#include "common/crypto.h"

namespace wanserve::media {
namespace {

constexpr std::string_view kExtensions[] = {"png", "jpg", "webp", "mp4", "mov", "wav", "mp3", "bmp"};

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool IsKnownExtension(std::string_view ext) {
  for (auto e : kExtensions) {
    if (ext == e) return true;
  }
  return false;
}

// "<32 hex>.<ext>"
bool IsFlatKey(std::string_view key) {
  return key.size() > 33 && key[32] == '.' && IsLowerHex(key.substr(0, 32)) && IsKnownExtension(key.substr(33));
}

// Task ids of every dialect: up to 100 of [A-Za-z0-9_-]; "tmp" is the local store's scratch.
bool IsTaskSegment(std::string_view s) {
  if (s.empty() || s.size() > 100 || s == "tmp") return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '-')) {
      return false;
    }
  }
  return true;
}

// "<n>_<16 hex>.<ext>"
bool IsOutputName(std::string_view s) {
  const auto underscore = s.find('_');
  const auto dot = s.find('.');
  if (underscore == std::string_view::npos || underscore == 0 || underscore > 4 || dot != underscore + 17) return false;
  for (char c : s.substr(0, underscore)) {
    if (c < '0' || c > '9') return false;
  }
  return IsLowerHex(s.substr(underscore + 1, 16)) && IsKnownExtension(s.substr(dot + 1));
}

}  // namespace

BlobStore::BlobStore(std::filesystem::path scratch) : scratch_(std::move(scratch)) {
  std::filesystem::create_directories(scratch_);
}

std::optional<OutputKey> BlobStore::ParseOutputKey(std::string_view key) {
  const auto first = key.find('/');
  if (first == std::string_view::npos) return std::nullopt;
  const auto second = key.find('/', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  const auto task = key.substr(0, first);
  const auto attempt_text = key.substr(first + 1, second - first - 1);
  if (!IsTaskSegment(task) || !IsOutputName(key.substr(second + 1))) return std::nullopt;
  int attempt = 0;
  auto [end, ec] = std::from_chars(attempt_text.data(), attempt_text.data() + attempt_text.size(), attempt);
  if (ec != std::errc() || end != attempt_text.data() + attempt_text.size() || attempt < 0 || attempt_text.size() > 6 ||
      (attempt_text.size() > 1 && attempt_text[0] == '0')) {
    return std::nullopt;
  }
  return OutputKey{std::string(task), attempt};
}

bool BlobStore::IsValidKey(std::string_view key) { return IsFlatKey(key) || ParseOutputKey(key).has_value(); }

std::string BlobStore::ContentTypeFor(std::string_view key) {
  auto ext = key.substr(key.rfind('.') + 1);
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

std::string BlobStore::NewId(std::string_view extension) { return HexEncode(RandomBytes(16)) + "." + std::string(extension); }

std::string BlobStore::NewOutputKey(std::string_view task_id, int attempt, size_t n, std::string_view extension) {
  return fmt::format("{}/{}/{}_{}.{}", task_id, attempt, n, HexEncode(RandomBytes(8)), extension);
}

std::string BlobStore::TaskPrefix(std::string_view task_id) { return std::string(task_id) + "/"; }

std::filesystem::path BlobStore::ScratchPath(std::string_view key) const {
  std::string name(key);
  for (char& c : name) {
    if (c == '/') c = '-';
  }
  return scratch_ / (name + ".part");
}

Result<int64_t> BlobStore::Write(std::string_view key, std::string_view bytes) const {
  if (!IsValidKey(key)) return MakeError(ErrorCode::kInvalidId, "not a blob key");
  const auto tmp = ScratchPath(key);
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!f) {
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
      return MakeError(ErrorCode::kUnavailable, "cannot write " + tmp.string());
    }
  }
  return Put(key, tmp);
}

int BlobStore::DeleteStalePartials(std::filesystem::file_time_type cutoff) const {
  int deleted = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(scratch_, ec); !ec && it != std::filesystem::directory_iterator();
       it.increment(ec)) {
    if (!it->is_regular_file() || it->path().extension() != ".part") continue;
    std::error_code fec;
    if (it->last_write_time(fec) < cutoff && !fec && std::filesystem::remove(it->path(), fec)) ++deleted;
  }
  return deleted;
}

std::optional<std::filesystem::path> BlobStore::LocalFile(std::string_view) const { return std::nullopt; }

std::optional<std::string> BlobStore::PresignedUrl(std::string_view, int64_t) const { return std::nullopt; }

int64_t BlobClockNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Result<int> DeleteOlderThan(const BlobStore& store, int64_t cutoff_ms) {
  int deleted = 0;
  std::string after;
  for (;;) {
    ASSIGN_OR_RETURN(auto page, store.List("", after, 1000));
    if (page.empty()) return deleted;
    for (const auto& blob : page) {
      if (blob.modified_ms >= cutoff_ms) continue;
      RETURN_IF_ERROR(store.Delete(blob.key));
      ++deleted;
    }
    after = page.back().key;
  }
}

Status CopyToFile(const BlobStore& store, std::string_view key, const std::filesystem::path& dest) {
  ASSIGN_OR_RETURN(auto info, store.Stat(key));
  ASSIGN_OR_RETURN(auto reader, store.Open(key, 0, static_cast<uint64_t>(info.bytes)));
  std::ofstream out(dest, std::ios::binary | std::ios::trunc);
  std::string buffer(256 * 1024, '\0');
  for (;;) {
    ASSIGN_OR_RETURN(size_t n, reader->Read(buffer.data(), buffer.size()));
    if (n == 0) break;
    out.write(buffer.data(), static_cast<std::streamsize>(n));
  }
  out.close();
  if (!out) return MakeError(ErrorCode::kUnavailable, "cannot write " + dest.string());
  return Status::Ok();
}

}  // namespace wanserve::media
