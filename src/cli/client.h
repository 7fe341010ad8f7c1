#pragma once
#include <CLI/CLI.hpp>

namespace wanserve::cli {

// `wanserve submit` and `wanserve status`: a client of the public API in any dialect.
void AddClientCommands(CLI::App& app, int& exit_code);

}  // namespace wanserve::cli
