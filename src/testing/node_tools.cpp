#include "testing/node_tools.h"

#include <cstdlib>
#include <filesystem>

namespace wanserve::testing {

std::string NodeScript(const std::string& name) {
  return (std::filesystem::path(WANSERVE_SOURCE_DIR) / "tests" / "node" / name).string();
}

bool NodeToolsAvailable() {
  return std::filesystem::exists(NodeScript("node_modules/.package-lock.json")) &&
         std::system("command -v node >/dev/null 2>&1") == 0;
}

}  // namespace wanserve::testing
