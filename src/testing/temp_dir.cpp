#include "testing/temp_dir.h"

#include <stdexcept>
#include <string>

#include "common/crypto.h"

namespace wanserve::testing {

TempDir::TempDir() {
  path_ = std::filesystem::temp_directory_path() /
          ("wanserve-test-" + RandomString(12, "abcdefghijklmnopqrstuvwxyz0123456789"));
  if (!std::filesystem::create_directories(path_)) {
    throw std::runtime_error("cannot create " + path_.string());
  }
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace wanserve::testing
