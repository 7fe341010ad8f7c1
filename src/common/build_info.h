#pragma once
// What was built: the version from `git describe` at build time (cmake/GitVersion.cmake).

namespace wanserve {

// e.g. "0.1.0-g9a1dbab" (untagged), "v0.2.0", "v0.2.0-3-g1234abc-dirty".
const char* BuildVersion();

}  // namespace wanserve
