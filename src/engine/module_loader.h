#pragma once
// Opening the engine's plug-in modules (libwanserve_engine.so, libwanserve_tokenizer.so). Each is
// opened RTLD_LOCAL, so the libraries one brings in never bind to the other's: libtorch's
// libprotobuf 3.21 and the protobuf 3.14 that libsentencepiece carries inside it export the
// same symbols and crash a process that has both in one lookup scope.
#include <string>

#include "common/error.h"

namespace wanserve::engine {

// The module's `entry` symbol, called once: the module named by environment variable `env`,
// else `file` beside the running binary (the build tree), else in `../lib/wanserve/` from it
// (the installed layout: /usr/bin/wanserve, /usr/lib/wanserve/), else `file` on the loader's
// search path. Errors are
// kUnavailable and name the file.
Result<const void*> OpenModule(const std::string& file, const char* env, const char* entry);

}  // namespace wanserve::engine
