#include "cli/engine_commands.h"

#include <fmt/format.h>

#include <memory>

#include "engine/engine.h"

namespace wanserve::cli {
namespace {

struct GoldenArgs {
  std::string dir;
  std::vector<std::string> only;
  int threads = 0;
};

int RunGolden(const GoldenArgs& args) {
  auto threads = engine::SetThreads(args.threads);
  if (!threads.ok()) {
    fmt::print(stderr, "error: {}\n", threads.error().message);
    return 2;
  }
  engine::GoldenOptions options;
  options.only = args.only;
  fmt::print("{:<28} {:<36} {:>12} {:>12}  result  (threads {})\n", "case", "tensor", "max |err|",
             "tolerance", *threads);
  auto checks = engine::RunGoldenSet(args.dir, options, [](const engine::GoldenCheck& c) {
    if (!c.message.empty()) {
      fmt::print("{:<28} {:<36} {:>12} {:>12}  FAIL    {}\n", c.case_name, c.tensor, "-", "-",
                 c.message);
      return;
    }
    fmt::print("{:<28} {:<36} {:>12.3e} {:>12.3e}  {}\n", c.case_name, c.tensor, c.max_abs_error,
               c.tolerance, c.passed ? "PASS" : "FAIL");
  });
  if (!checks.ok()) {
    fmt::print(stderr, "error: {}\n", checks.error().message);
    return 2;
  }
  size_t failed = 0;
  for (const auto& c : *checks) failed += c.passed ? 0 : 1;
  fmt::print("{} checks, {} failed\n", checks->size(), failed);
  return failed == 0 && !checks->empty() ? 0 : 1;
}

}  // namespace

void AddEngineCommands(CLI::App& app, int& exit_code) {
  auto* engine_cmd = app.add_subcommand("engine", "The local Wan engine");
  engine_cmd->require_subcommand(1);
  auto golden_args = std::make_shared<GoldenArgs>();
  auto* golden = engine_cmd->add_subcommand(
      "golden", "Check the engine against golden vectors made with the official Wan code");
  golden->add_option("--dir", golden_args->dir, "folder holding manifest.json")->required();
  golden->add_option("--only", golden_args->only, "run only cases whose name contains this");
  golden->add_option("--threads", golden_args->threads, "intra-op threads (0 = all cores)")
      ->capture_default_str();
  golden->callback([golden_args, &exit_code] { exit_code = RunGolden(*golden_args); });
}

}  // namespace wanserve::cli
