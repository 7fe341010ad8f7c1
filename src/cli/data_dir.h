#pragma once
// The data folder: database, server secret, output files.
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

Result<DataDir> OpenDataDir(const std::string& path);

}  // namespace wanserve::cli
