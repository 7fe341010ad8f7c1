#pragma once
#include <CLI/CLI.hpp>

namespace wanserve::cli {

// `wanserve admin keys create|list|revoke --data DIR`; works on the data folder directly,
// also while a server runs on it. Sets exit_code when a command ran.
void AddAdminCommands(CLI::App& app, int& exit_code);

}  // namespace wanserve::cli
