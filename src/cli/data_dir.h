#pragma once
// The data folder: database, server secret, output files. The database is the SQLite file in
// the folder unless a store URL names a PostgreSQL database shared by several nodes.
#include <filesystem>
#include <memory>
#include <string>

#include "common/error.h"
#include "store/task_store.h"

namespace wanserve::cli {

struct DataDir {
  std::filesystem::path root;
  std::string secret;  // signs output links; created on first use, mode 0600
  std::unique_ptr<store::Store> store;
};

struct StoreLocation {
  std::string url;          // empty: SQLite in the data folder; postgresql://…: that database
  int max_connections = 8;  // PostgreSQL connections this process opens at most
  bool synchronous_full = false;  // SQLite: fsync every commit
};

// kNotFound when the folder is missing and `create_missing` is false.
Result<DataDir> OpenDataDir(const std::string& path, const StoreLocation& store = {}, bool create_missing = true);

}  // namespace wanserve::cli
