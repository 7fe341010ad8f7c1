#include "engine/presets.h"

#include <filesystem>

namespace wanserve::engine {
namespace {
namespace fs = std::filesystem;

// The official default negative prompt (wan_shared_cfg.sample_neg_prompt).
constexpr const char* kNegativePrompt =
    "色调艳丽，过曝，静态，细节模糊不清，字幕，风格，作品，画作，画面，静止，整体发灰，最差质量，低质量，"
    "JPEG压缩残留，丑陋的，残缺的，多余的手指，画得不好的手部，画得不好的脸部，畸形的，毁容的，"
    "形态畸形的肢体，手指融合，静止不动的画面，杂乱的背景，三条腿，背景人很多，倒着走";

// umt5-xxl, the text encoder of every Wan release.
nlohmann::json Umt5Xxl() {
  return {{"vocab", 256384}, {"dim", 4096},      {"dim_attn", 4096}, {"dim_ffn", 10240},
          {"num_heads", 64}, {"num_layers", 24}, {"num_buckets", 32}, {"shared_pos", false}};
}

nlohmann::json Dit(const char* type, int in_dim, int dim, int ffn_dim, int heads, int layers, int text_len,
                   int text_dim) {
  return {{"model_type", type}, {"patch_size", {1, 2, 2}}, {"text_len", text_len}, {"in_dim", in_dim},
          {"dim", dim},         {"ffn_dim", ffn_dim},      {"freq_dim", 256},      {"text_dim", text_dim},
          {"out_dim", in_dim},  {"num_heads", heads},      {"num_layers", layers}, {"window_size", {-1, -1}},
          {"qk_norm", true},    {"cross_attn_norm", true}, {"eps", 1e-6}};
}

nlohmann::json Wan21Vae() {
  return {{"dim", 96}, {"z_dim", 16}, {"dim_mult", {1, 2, 4, 4}}, {"num_res_blocks", 2},
          {"attn_scales", nlohmann::json::array()}, {"temperal_downsample", {false, true, true}}};
}

Preset Official(std::string name) {
  Preset p;
  p.name = std::move(name);
  p.t5 = Umt5Xxl();
  p.vae = Wan21Vae();
  p.t5_file = "models_t5_umt5-xxl-enc-bf16.pth";
  p.tokenizer_file = "google/umt5-xxl/spiece.model";
  p.vae_file = "Wan2.1_VAE.pth";
  p.dit_paths = {"."};
  p.negative_prompt = kNegativePrompt;
  return p;
}

std::vector<Preset> MakePresets() {
  std::vector<Preset> presets;

  Preset small = Official("wan2.1-t2v-1.3b");
  small.dit = Dit("t2v", 16, 1536, 8960, 12, 30, 512, 4096);
  presets.push_back(small);

  Preset large = Official("wan2.1-t2v-14b");
  large.dit = Dit("t2v", 16, 5120, 13824, 40, 40, 512, 4096);
  large.width = 1280;
  large.height = 720;
  presets.push_back(large);

  Preset ti2v = Official("wan2.2-ti2v-5b");
  ti2v.dit = Dit("ti2v", 48, 3072, 14336, 24, 30, 512, 4096);
  ti2v.vae = {{"dim", 160}, {"dec_dim", 256}, {"z_dim", 48}, {"dim_mult", {1, 2, 4, 4}},
              {"num_res_blocks", 2}, {"attn_scales", nlohmann::json::array()},
              {"temperal_downsample", {false, true, true}}};
  ti2v.wan22_vae = true;
  ti2v.vae_stride = 16;
  ti2v.vae_file = "Wan2.2_VAE.pth";
  ti2v.width = 1280;
  ti2v.height = 704;
  ti2v.frames = 121;
  ti2v.fps = 24;
  presets.push_back(ti2v);

  Preset experts = Official("wan2.2-t2v-a14b");
  experts.dit = Dit("t2v", 16, 5120, 13824, 40, 40, 512, 4096);
  experts.dit_paths = {"high_noise_model", "low_noise_model"};
  experts.boundary = 0.875;
  experts.width = 1280;
  experts.height = 720;
  experts.steps = 40;
  experts.shift = 12.0;
  experts.guide_scale = 3.0;
  experts.guide_scale_high = 4.0;
  presets.push_back(experts);

  // The golden set's shapes: a few MB of random weights, seconds per video on a CPU.
  Preset tiny;
  tiny.name = "tiny";
  tiny.t5 = {{"vocab", 1000}, {"dim", 32},       {"dim_attn", 32},    {"dim_ffn", 64},
             {"num_heads", 4}, {"num_layers", 2}, {"num_buckets", 32}, {"shared_pos", false}};
  tiny.dit = Dit("t2v", 16, 64, 128, 4, 2, 16, 32);
  tiny.vae = {{"dim", 8}, {"z_dim", 16}, {"dim_mult", {1, 2, 4, 4}}, {"num_res_blocks", 2},
              {"attn_scales", nlohmann::json::array()}, {"temperal_downsample", {false, true, true}}};
  tiny.width = 128;
  tiny.height = 128;
  tiny.frames = 17;
  tiny.steps = 8;
  tiny.negative_prompt = kNegativePrompt;
  tiny.random_weights = true;
  presets.push_back(tiny);
  return presets;
}

const std::vector<Preset>& Presets() {
  static const std::vector<Preset> presets = MakePresets();
  return presets;
}

// A DiT location holds a sharded index or a single safetensors file.
std::string DitFileIn(const fs::path& dir) {
  for (const char* name : {"diffusion_pytorch_model.safetensors.index.json", "diffusion_pytorch_model.safetensors"}) {
    if (fs::exists(dir / name)) return (dir / name).string();
  }
  return {};
}

}  // namespace

const Preset* FindPreset(const std::string& name) {
  for (const auto& preset : Presets()) {
    if (preset.name == name) return &preset;
  }
  return nullptr;
}

std::vector<std::string> PresetNames() {
  std::vector<std::string> names;
  for (const auto& preset : Presets()) names.push_back(preset.name);
  return names;
}

Result<PresetFiles> LocatePresetFiles(const Preset& preset, const std::string& weights_dir) {
  if (preset.random_weights) return PresetFiles{};
  const fs::path root = weights_dir.empty() ? fs::path(".") : fs::absolute(weights_dir);
  PresetFiles files{(root / preset.t5_file).string(), (root / preset.tokenizer_file).string(),
                    (root / preset.vae_file).string(), {}};
  std::string looked_for;
  std::string missing;
  const auto check = [&](const std::string& path, bool present) {
    looked_for += "\n  " + path + (present ? "" : "  (missing)");
    if (!present) missing += (missing.empty() ? "" : ", ") + fs::path(path).filename().string();
  };
  check(files.t5, fs::is_regular_file(files.t5));
  check(files.tokenizer, fs::is_regular_file(files.tokenizer));
  check(files.vae, fs::is_regular_file(files.vae));
  for (const auto& dit : preset.dit_paths) {
    const fs::path dir = (root / dit).lexically_normal();
    const std::string file = DitFileIn(dir);
    check(file.empty() ? (dir / "diffusion_pytorch_model*.safetensors").string() : file, !file.empty());
    files.dits.push_back(file);
  }
  if (!missing.empty()) {
    return MakeError(ErrorCode::kNotFound,
                     "model " + preset.name + " needs its weights in " + root.string() + " (missing: " +
                         missing + "); looked for:" + looked_for);
  }
  return files;
}

}  // namespace wanserve::engine
