#include "engine/module_loader.h"

#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>

namespace wanserve::engine {

Result<const void*> OpenModule(const std::string& file, const char* env, const char* entry) {
  std::string path = file;
  if (const char* chosen = std::getenv(env); chosen != nullptr && *chosen != '\0') {
    path = chosen;
  } else {
    std::error_code ec;
    const auto exe_dir = std::filesystem::read_symlink("/proc/self/exe", ec).parent_path();
    for (const auto& candidate : {exe_dir / file, exe_dir / ".." / "lib" / "wanserve" / file}) {
      if (!ec && std::filesystem::exists(candidate, ec)) {
        path = candidate.lexically_normal().string();
        break;
      }
    }
  }
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = ::dlerror();
    return MakeError(ErrorCode::kUnavailable,
                     "the engine module " + path + " could not be loaded: " + (why ? why : "?"));
  }
  using Entry = const void* (*)();
  auto function = reinterpret_cast<Entry>(::dlsym(handle, entry));
  const void* table = function != nullptr ? function() : nullptr;
  if (table == nullptr) return MakeError(ErrorCode::kUnavailable, path + " is not a wanserve module");
  return table;
}

}  // namespace wanserve::engine
