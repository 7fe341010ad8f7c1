#include "engine/presets.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "engine/image_ops.h"

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

// A VACE DiT: hints for main blocks 0, every, 2 * every, ... below layers.
nlohmann::json Vace(nlohmann::json dit, int layers, int every) {
  std::vector<int> vace_layers;
  for (int i = 0; i < layers; i += every) vace_layers.push_back(i);
  dit["vace_layers"] = vace_layers;
  dit["vace_in_dim"] = 96;
  return dit;
}

nlohmann::json Wan21Vae() {
  return {{"dim", 96}, {"z_dim", 16}, {"dim_mult", {1, 2, 4, 4}}, {"num_res_blocks", 2},
          {"attn_scales", nlohmann::json::array()}, {"temperal_downsample", {false, true, true}}};
}

const SizeTier k480p{"480p", 832, 480};
const SizeTier k720p{"720p", 1280, 720};

Preset Official(std::string name, std::string release) {
  Preset p;
  p.name = std::move(name);
  p.release = std::move(release);
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

  // Sizes as the official SUPPORTED_SIZES of each release list them.
  Preset small = Official("wan2.1-t2v-1.3b", "Wan-AI/Wan2.1-T2V-1.3B");
  small.dit = Dit("t2v", 16, 1536, 8960, 12, 30, 512, 4096);
  small.tiers = {k480p};
  small.max_image_pixels = 832 * 480;
  presets.push_back(small);

  Preset large = Official("wan2.1-t2v-14b", "Wan-AI/Wan2.1-T2V-14B");
  large.dit = Dit("t2v", 16, 5120, 13824, 40, 40, 512, 4096);
  large.width = 1280;
  large.height = 720;
  large.tiers = {k480p, k720p};
  large.max_image_pixels = 1024 * 1024;  // t2i-14B lists 1024*1024
  presets.push_back(large);

  Preset ti2v = Official("wan2.2-ti2v-5b", "Wan-AI/Wan2.2-TI2V-5B");
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
  ti2v.tiers = {{"720p", 1280, 704}};
  ti2v.max_image_pixels = 1280 * 704;
  ti2v.max_frames = 121;
  ti2v.image_to_video = true;
  presets.push_back(ti2v);

  // Wan2.1-VACE: the T2V DiT of its size plus VACE blocks, whose hints go to every second main
  // block (1.3B) or every fifth (14B), as the releases' config.json files name them.
  Preset vace_small = Official("wan2.1-vace-1.3b", "Wan-AI/Wan2.1-VACE-1.3B");
  vace_small.dit = Vace(Dit("vace", 16, 1536, 8960, 12, 30, 512, 4096), 30, 2);
  vace_small.shift = 16.0;  // the VACE default of the official generate.py
  vace_small.tiers = {k480p};
  vace_small.max_image_pixels = 832 * 480;
  vace_small.vace = true;
  presets.push_back(vace_small);

  Preset vace_large = Official("wan2.1-vace-14b", "Wan-AI/Wan2.1-VACE-14B");
  vace_large.dit = Vace(Dit("vace", 16, 5120, 13824, 40, 40, 512, 4096), 40, 5);
  vace_large.shift = 16.0;
  vace_large.width = 1280;
  vace_large.height = 720;
  vace_large.tiers = {k480p, k720p};
  vace_large.max_image_pixels = 1280 * 720;
  vace_large.vace = true;
  presets.push_back(vace_large);

  Preset experts = Official("wan2.2-t2v-a14b", "Wan-AI/Wan2.2-T2V-A14B");
  experts.dit = Dit("t2v", 16, 5120, 13824, 40, 40, 512, 4096);
  experts.dit_paths = {"high_noise_model", "low_noise_model"};
  experts.boundary = 0.875;
  experts.width = 1280;
  experts.height = 720;
  experts.steps = 40;
  experts.shift = 12.0;
  experts.guide_scale = 3.0;
  experts.guide_scale_high = 4.0;
  experts.tiers = {k480p, k720p};
  experts.max_image_pixels = 1280 * 720;
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
  // Every tier, rendered at an eighth of the asked width and height: seconds per task on a CPU.
  tiny.tiers = {k480p, k720p, {"1080p", 1920, 1080}};
  tiny.max_image_pixels = 4096 * 4096;
  tiny.render_divisor = 8;
  presets.push_back(tiny);

  // The same for Wan 2.2 TI2V's shapes (the golden set's): image to video on the tiny presets.
  Preset tiny_ti2v = tiny;
  tiny_ti2v.name = "tiny-ti2v";
  tiny_ti2v.dit = Dit("ti2v", 48, 64, 128, 4, 2, 16, 32);
  tiny_ti2v.vae = {{"dim", 8}, {"dec_dim", 12}, {"z_dim", 48}, {"dim_mult", {1, 2, 4, 4}}, {"num_res_blocks", 2},
                   {"attn_scales", nlohmann::json::array()}, {"temperal_downsample", {false, true, true}}};
  tiny_ti2v.wan22_vae = true;
  tiny_ti2v.vae_stride = 16;
  tiny_ti2v.fps = 24;
  tiny_ti2v.max_frames = 121;
  tiny_ti2v.image_to_video = true;
  presets.push_back(tiny_ti2v);

  // And Wan2.1-VACE's (the golden set's VACE DiT: two main blocks, a hint on the first).
  Preset tiny_vace = tiny;
  tiny_vace.name = "tiny-vace";
  tiny_vace.dit = Vace(Dit("vace", 16, 64, 128, 4, 2, 16, 32), 2, 2);
  tiny_vace.shift = 16.0;
  tiny_vace.vace = true;
  presets.push_back(tiny_vace);
  return presets;
}

const std::vector<Preset>& Presets() {
  static const std::vector<Preset> presets = MakePresets();
  return presets;
}

// Nearest multiple of `m`, at least `m`.
int OnGrid(double v, int m) { return std::max(m, static_cast<int>(std::lround(v / m)) * m); }

std::string Megapixels(int64_t pixels) { return fmt::format("{:.2f} MP", static_cast<double>(pixels) / 1e6); }

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

Result<std::vector<const Preset*>> ResolvePresetNames(const std::vector<std::string>& names) {
  std::vector<const Preset*> out;
  for (const auto& name : names) {
    if (name == "tiny") {
      for (const auto& preset : Presets()) {
        if (preset.random_weights) out.push_back(&preset);
      }
      continue;
    }
    const Preset* preset = FindPreset(name);
    if (!preset) {
      std::string known;
      for (const auto& n : PresetNames()) known += (known.empty() ? "" : ", ") + n;
      return MakeError(ErrorCode::kUnsupportedModel, "unknown local model " + name + " (known: " + known + ")");
    }
    out.push_back(preset);
  }
  return out;
}

int SizeMultiple(const Preset& preset) { return preset.vae_stride * 2; }

std::string DescribeSizes(const Preset& preset) {
  std::string tiers;
  for (const auto& t : preset.tiers) {
    tiers += fmt::format("{}{}", tiers.empty() ? "" : ", ", t.name);
    if (preset.render_divisor == 1) tiers += fmt::format(" ({}x{})", t.width, t.height);
  }
  if (preset.render_divisor > 1) {
    return fmt::format("{} and any image, rendered at 1/{} of the asked width and height (test preset)", tiers,
                       preset.render_divisor);
  }
  return fmt::format("video {} up to {} frames; images up to {}", tiers, preset.max_frames,
                     Megapixels(preset.max_image_pixels));
}

namespace {

Result<const SizeTier*> FindTier(const Preset& preset, const std::string& tier) {
  const auto it = std::find_if(preset.tiers.begin(), preset.tiers.end(), [&](const SizeTier& t) { return t.name == tier; });
  if (it != preset.tiers.end()) return &*it;
  std::string known;
  for (const auto& t : preset.tiers) known += (known.empty() ? "" : ", ") + t.name;
  return MakeError(ErrorCode::kInvalidInput,
                   fmt::format("{} generates {} video, not {}", preset.name, known, tier.empty() ? "this size" : tier),
                   "resolution");
}

}  // namespace

Result<RenderSize> ImageToVideoRenderSize(const Preset& preset, const std::string& tier, int image_width,
                                          int image_height) {
  ASSIGN_OR_RETURN(const SizeTier* it, FindTier(preset, tier));
  if (image_width <= 0 || image_height <= 0) return MakeError(ErrorCode::kInvalidInput, "no first frame", "image");
  const int d = preset.render_divisor;
  const int m = SizeMultiple(preset);
  const auto [w, h] = BestOutputSize(image_width, image_height, m, m, static_cast<double>(it->width) * it->height / (d * d));
  return RenderSize{std::max(w, m), std::max(h, m), std::max(w, m), std::max(h, m)};
}

Result<RenderSize> VideoRenderSize(const Preset& preset, const std::string& tier, int width, int height) {
  ASSIGN_OR_RETURN(const SizeTier* it, FindTier(preset, tier));
  if (width <= 0 || height <= 0) return MakeError(ErrorCode::kInvalidInput, "no output size", "resolution");
  const int d = preset.render_divisor;
  const int m = SizeMultiple(preset);
  const double area = static_cast<double>(it->width) * it->height / (d * d);
  const double w = static_cast<double>(width) / d, h = static_cast<double>(height) / d;
  RenderSize size;
  if (std::fmod(w, m) == 0 && std::fmod(h, m) == 0 && w * h <= area * 1.05) {
    size.width = static_cast<int>(w);
    size.height = static_cast<int>(h);
  } else {
    const double scale = std::sqrt(area / (w * h));
    size.width = OnGrid(w * scale, m);
    size.height = OnGrid(h * scale, m);
  }
  size.out_width = size.width;
  size.out_height = size.height;
  return size;
}

Result<RenderSize> ImageRenderSize(const Preset& preset, int width, int height) {
  if (width <= 0 || height <= 0) return MakeError(ErrorCode::kInvalidInput, "no output size", "size");
  if (static_cast<double>(width) * height > preset.max_image_pixels * 1.2) {
    return MakeError(ErrorCode::kInvalidInput,
                     fmt::format("{} generates images up to {} ({}x{} asked)", preset.name,
                                 Megapixels(preset.max_image_pixels), width, height),
                     "size");
  }
  const int d = preset.render_divisor;
  const int m = SizeMultiple(preset);
  RenderSize size;
  size.out_width = std::max(1, static_cast<int>(std::lround(static_cast<double>(width) / d)));
  size.out_height = std::max(1, static_cast<int>(std::lround(static_cast<double>(height) / d)));
  size.width = (size.out_width + m - 1) / m * m;
  size.height = (size.out_height + m - 1) / m * m;
  return size;
}

Result<int> VideoFrames(const Preset& preset, double seconds) {
  const double frames = std::max(5.0, seconds * preset.fps);
  const int count = 1 + 4 * static_cast<int>(std::lround((frames - 1) / 4));
  if (count > preset.max_frames) {
    return MakeError(ErrorCode::kInvalidInput,
                     fmt::format("{} generates at most {:g} s of video in one pass ({} frames at {} fps), not {:g} s",
                                 preset.name, static_cast<double>(preset.max_frames - 1) / preset.fps,
                                 preset.max_frames, preset.fps, seconds),
                     "duration");
  }
  return count;
}

Result<PresetFiles> LocatePresetFiles(const Preset& preset, const std::string& weights_dir) {
  if (preset.random_weights) return PresetFiles{};
  fs::path root = weights_dir.empty() ? fs::path(".") : fs::absolute(weights_dir);
  // A folder of releases (models pull): the preset's own release folder inside it.
  const fs::path release_dir = root / fs::path(preset.release).filename();
  if (!preset.release.empty() && fs::is_directory(release_dir)) root = release_dir;
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
                     preset.name + " needs its weights in " + root.string() + " (missing: " +
                         missing + "); looked for:" + looked_for);
  }
  return files;
}

int64_t WeightBytes(const PresetFiles& files) {
  std::error_code ec;
  int64_t total = 0;
  for (const auto& file : {files.t5, files.vae}) {
    if (!file.empty()) total += static_cast<int64_t>(fs::file_size(file, ec));
  }
  for (const auto& dit : files.dits) {
    if (dit.empty()) continue;
    for (const auto& entry : fs::directory_iterator(fs::path(dit).parent_path(), ec)) {
      if (entry.path().extension() == ".safetensors") total += static_cast<int64_t>(entry.file_size(ec));
    }
  }
  return total;
}

}  // namespace wanserve::engine
