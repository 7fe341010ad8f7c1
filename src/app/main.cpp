// wanserve: the composition root. Parses the command line and hands over to a subcommand.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <stdexcept>

#include "cli/admin.h"
#include "cli/client.h"
#include "cli/config.h"
#include "cli/engine_commands.h"
#include "cli/models.h"
#include "cli/server_main.h"
#include "common/build_info.h"

int main(int argc, char** argv) {
  CLI::App app{"wanserve: Wan image and video generation server"};
  app.set_version_flag("--version", std::string("wanserve ") + wanserve::BuildVersion());
  app.require_subcommand(1);
  int exit_code = 0;

  wanserve::cli::Config config;
  auto* serve = app.add_subcommand("serve", "Run the HTTP server");
  wanserve::cli::AddServeOptions(*serve, config);
  serve->callback([&] {
    try {
      wanserve::cli::FinishConfig(*serve, config);
    } catch (const std::exception& e) {
      fmt::print(stderr, "error: {}\n", e.what());
      exit_code = 2;
      return;
    }
    exit_code = wanserve::cli::RunServer(config);
  });
  wanserve::cli::AddAdminCommands(app, exit_code);
  wanserve::cli::AddClientCommands(app, exit_code);
  wanserve::cli::AddEngineCommands(app, exit_code);
  wanserve::cli::AddModelsCommands(app, exit_code);

  CLI11_PARSE(app, argc, argv);
  return exit_code;
}
