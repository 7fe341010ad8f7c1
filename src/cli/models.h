#pragma once
// `wanserve models list|pull`: the official weights of the engine's presets, fetched from their
// public home (Hugging Face, a mirror with its layout, or ModelScope) into the layout
// `providers.local.weights` reads.
#include <CLI/CLI.hpp>

namespace wanserve::cli {

void AddModelsCommands(CLI::App& app, int& exit_code);

}  // namespace wanserve::cli
