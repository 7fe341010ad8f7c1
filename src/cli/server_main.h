#pragma once
#include "cli/config.h"

namespace wanserve::cli {

// Builds every component from the config, serves until SIGTERM/SIGINT, shuts down gracefully.
// Returns the process exit code.
int RunServer(const Config& config);

}  // namespace wanserve::cli
