#pragma once
#include <CLI/CLI.hpp>

namespace wanserve::cli {

// `wanserve engine ...`: the local Wan engine from the command line (golden checks).
void AddEngineCommands(CLI::App& app, int& exit_code);

}  // namespace wanserve::cli
