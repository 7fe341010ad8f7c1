#include "cli/data_dir.h"

#include <fcntl.h>
#include <unistd.h>

#include <fstream>

#include "common/crypto.h"
#include "store/postgres/postgres_store.h"
#include "store/sqlite/sqlite_store.h"

namespace wanserve::cli {
namespace {

Result<std::string> LoadOrCreateSecret(const std::filesystem::path& file) {
  if (std::ifstream in(file); in) {
    std::string s;
    std::getline(in, s);
    if (s.size() >= 32) return s;
    return MakeError(ErrorCode::kUnavailable, "server secret in " + file.string() + " is too short");
  }
  const std::string secret = HexEncode(RandomBytes(32));
  // O_EXCL: two processes starting at once must not overwrite each other's secret.
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return LoadOrCreateSecret(file);
    return MakeError(ErrorCode::kUnavailable, "cannot create " + file.string());
  }
  const std::string line = secret + "\n";
  const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return MakeError(ErrorCode::kUnavailable, "cannot write " + file.string());
  return secret;
}

}  // namespace

Result<DataDir> OpenDataDir(const std::string& path, const StoreLocation& store, bool create_missing) {
  DataDir d;
  std::error_code ec;
  if (!create_missing && !std::filesystem::exists(path, ec)) {
    return MakeError(ErrorCode::kNotFound,
                     "data folder " + path + " does not exist (mistyped? --create makes a new one)");
  }
  std::filesystem::create_directories(path, ec);
  if (ec) return MakeError(ErrorCode::kUnavailable, "cannot create data folder " + path + ": " + ec.message());
  d.root = std::filesystem::canonical(path, ec);
  if (ec) return MakeError(ErrorCode::kUnavailable, "cannot open data folder " + path + ": " + ec.message());
  ASSIGN_OR_RETURN(d.secret, LoadOrCreateSecret(d.root / "secret"));
  if (store.url.empty()) {
    store::SqliteOptions sqlite;
    sqlite.path = (d.root / "wanserve.db").string();
    sqlite.synchronous_full = store.synchronous_full;
    ASSIGN_OR_RETURN(d.store, store::OpenSqliteStore(sqlite));
  } else if (store::IsPostgresUrl(store.url)) {
    ASSIGN_OR_RETURN(d.store, store::OpenPostgresStore({store.url, store.max_connections}));
  } else {
    return MakeError(ErrorCode::kInvalidInput,
                     "store.url must be a postgresql:// URL (or empty for SQLite in the data folder)");
  }
  return d;
}

}  // namespace wanserve::cli
