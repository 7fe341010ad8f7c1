#include "cli/engine_commands.h"

#include <fmt/format.h>

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <memory>
#include <tuple>

#include "engine/engine.h"
#include "engine/image_ops.h"
#include "engine/presets.h"
#include "media/decode.h"
#include "media/encode.h"

namespace wanserve::cli {
namespace {

struct GoldenArgs {
  std::string dir;
  std::vector<std::string> only;
  std::string device = "cpu";
  std::string precision = "float32";
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
  options.device = args.device;
  options.precision = args.precision;
  fmt::print("{:<28} {:<36} {:>12} {:>12}  result  ({} {}, threads {})\n", "case", "tensor", "max |err|",
             "tolerance", args.device, args.precision, *threads);
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

struct GenerateArgs {
  engine::GeneratorOptions options;
  engine::GenerateRequest request;
  std::string size;
  std::string out;
  std::string image;  // image to video: the first frame
  std::string edit;   // an edit: the video or picture to restyle
  std::vector<std::string> references;  // VACE presets: reference images
  std::string mask;                     // VACE presets: what an edit regenerates
  bool keep_audio = false;
  int threads = 0;
};

// The input picture or video of --image / --edit, decoded for the preset; without --size the
// output takes the preset's default area in the input's aspect ratio (as WanTI2V sizes it).
Status LoadInputs(GenerateArgs& args, const engine::Generator& generator, std::vector<float>& audio) {
  const engine::Preset& preset = generator.preset();
  for (const std::string& reference : args.references) {
    ASSIGN_OR_RETURN(core::RgbImage image, media::DecodeImage(reference));
    args.request.references.push_back(std::move(image));
  }
  if (!args.mask.empty()) {
    const bool picture = args.mask.ends_with(".png") || args.mask.ends_with(".jpg") || args.mask.ends_with(".jpeg") ||
                         args.mask.ends_with(".webp") || args.mask.ends_with(".bmp");
    if (picture) {
      ASSIGN_OR_RETURN(core::RgbImage image, media::DecodeImage(args.mask));
      args.request.mask.push_back(std::move(image));
    } else {
      ASSIGN_OR_RETURN(core::VideoClip clip, media::DecodeVideo(args.mask, {.fps = preset.fps}));
      args.request.mask = std::move(clip.frames);
    }
  }
  const std::string& path = args.image.empty() ? args.edit : args.image;
  if (path.empty()) return Status::Ok();
  const bool picture = !args.image.empty() || path.ends_with(".png") || path.ends_with(".jpg") ||
                       path.ends_with(".jpeg") || path.ends_with(".webp") || path.ends_with(".bmp");
  int width = 0, height = 0;
  if (picture) {
    ASSIGN_OR_RETURN(core::RgbImage image, media::DecodeImage(path));
    width = image.width;
    height = image.height;
    if (args.image.empty()) args.request.source.push_back(std::move(image));
    else args.request.first_frame = std::move(image);
  } else {
    ASSIGN_OR_RETURN(core::VideoClip clip, media::DecodeVideo(path, {.fps = preset.fps, .audio = args.keep_audio}));
    width = clip.frames.front().width;
    height = clip.frames.front().height;
    args.request.source = std::move(clip.frames);
    audio = std::move(clip.audio);
  }
  if (args.request.width <= 0) {
    const int m = generator.size_multiple();
    std::tie(args.request.width, args.request.height) =
        engine::BestOutputSize(width, height, m, m, static_cast<double>(preset.width) * preset.height);
  }
  return Status::Ok();
}

// A one-line bar redrawn in place: [#####.....] step 12/51  8.4 s
void DrawProgress(int done, int total, double seconds) {
  constexpr int kWidth = 30;
  const int filled = total > 0 ? done * kWidth / total : 0;
  fmt::print(stderr, "\r[{}{}] step {}/{}  {:.1f} s", std::string(static_cast<size_t>(filled), '#'),
             std::string(static_cast<size_t>(kWidth - filled), '.'), done, total, seconds);
  if (done == total) fmt::print(stderr, "\n");
}

Status WriteOutput(const engine::GeneratedVideo& video, const std::string& out) {
  if (out.ends_with(".png")) {
    ASSIGN_OR_RETURN(const std::string png, media::EncodeImage(video.clip.frames.front(), media::ImageFormat::kPng));
    std::ofstream file(out, std::ios::binary | std::ios::trunc);
    file.write(png.data(), static_cast<std::streamsize>(png.size()));
    file.close();
    if (!file) return MakeError(ErrorCode::kInternal, out + ": cannot write");
    return Status::Ok();
  }
  return media::EncodeMp4(video.clip, out);
}

int RunGenerate(GenerateArgs args) {
  if (!args.out.ends_with(".mp4") && !args.out.ends_with(".png")) {
    fmt::print(stderr, "error: --out must end in .mp4 or .png\n");
    return 2;
  }
  if (!args.size.empty()) {
    int width = 0;
    int height = 0;
    char x = 0;
    if (std::sscanf(args.size.c_str(), "%d%c%d", &width, &x, &height) != 3 || (x != 'x' && x != '*')) {
      fmt::print(stderr, "error: --size must be WIDTHxHEIGHT, e.g. 832x480\n");
      return 2;
    }
    args.request.width = width;
    args.request.height = height;
  }
  if (args.out.ends_with(".png")) args.request.frames = 1;
  if (args.out.ends_with(".png") && !args.image.empty()) {
    fmt::print(stderr, "error: image to video makes a video: --out must end in .mp4\n");
    return 2;
  }
  auto threads = engine::SetThreads(args.threads);
  if (!threads.ok()) {
    fmt::print(stderr, "error: {}\n", threads.error().message);
    return 2;
  }
  const auto started = std::chrono::steady_clock::now();
  const auto seconds = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  };
  auto generator = engine::Generator::Open(args.options);
  if (!generator.ok()) {
    fmt::print(stderr, "error: {}\n", generator.error().message);
    return 2;
  }
  fmt::print(stderr, "loaded {} in {:.1f} s on {} ({} threads)\n", args.options.model, seconds(),
             (*generator)->placement(), *threads);
  std::vector<float> audio;
  if (auto loaded = LoadInputs(args, **generator, audio); !loaded.ok()) {
    fmt::print(stderr, "error: {}\n", loaded.error().message);
    return 2;
  }
  auto video = (*generator)->Generate(args.request, [&](int done, int total) {
    DrawProgress(done, total, seconds());
    return true;
  });
  if (!video.ok()) {
    fmt::print(stderr, "\nerror: {}\n", video.error().message);
    return video.error().code == ErrorCode::kInvalidInput ? 2 : 1;
  }
  video->clip.audio = std::move(audio);
  if (auto written = WriteOutput(*video, args.out); !written.ok()) {
    fmt::print(stderr, "error: {}\n", written.error().message);
    return 1;
  }
  const auto& frame = video->clip.frames.front();
  fmt::print("{}: {}x{}, {} frame(s), seed {}, {:.1f} s\n", args.out, frame.width, frame.height,
             video->clip.frames.size(), video->seed, seconds());
  return 0;
}

struct BenchArgs {
  int threads = 0;
  int repeats = 3;
  std::string write_weights;
  std::string load;
};

// Figures as JSON lines, read by bench/engine_bench.sh.
void PrintFigure(const std::string& name, double seconds, double gflop) {
  fmt::print("{{\"name\":\"{}\",\"seconds\":{:.6f},\"gflop\":{:.3f}}}\n", name, seconds, gflop);
}

int64_t PeakRssBytes() {
  struct rusage usage {};
  ::getrusage(RUSAGE_SELF, &usage);
  return static_cast<int64_t>(usage.ru_maxrss) * 1024;
}

int RunBench(const BenchArgs& args) {
  auto threads = engine::SetThreads(args.threads);
  if (!threads.ok()) {
    fmt::print(stderr, "error: {}\n", threads.error().message);
    return 2;
  }
  if (!args.write_weights.empty()) {
    auto written = engine::WriteBenchWeights(args.write_weights);
    if (!written.ok()) fmt::print(stderr, "error: {}\n", written.error().message);
    return written.ok() ? 0 : 1;
  }
  if (!args.load.empty()) {
    const int64_t before = PeakRssBytes();
    auto bytes = engine::LoadBenchWeights(args.load);
    if (!bytes.ok()) {
      fmt::print(stderr, "error: {}\n", bytes.error().message);
      return 1;
    }
    fmt::print("{{\"weights_bytes\":{},\"rss_before\":{},\"rss_peak\":{}}}\n", *bytes, before, PeakRssBytes());
    return 0;
  }
  auto figures = engine::RunEngineBench(args.repeats);
  if (!figures.ok()) {
    fmt::print(stderr, "error: {}\n", figures.error().message);
    return 1;
  }
  for (const auto& f : *figures) PrintFigure(f.name, f.seconds, f.gflop);
  // The whole tiny pipeline as a user runs it: UMT5, 4 steps of guided DiT, VAE decode.
  auto generator = engine::Generator::Open({});
  if (!generator.ok()) {
    fmt::print(stderr, "error: {}\n", generator.error().message);
    return 1;
  }
  engine::GenerateRequest request;
  request.prompt = "a lighthouse at night";
  request.steps = 4;
  request.seed = 1;
  std::vector<double> times;
  for (int i = 0; i <= args.repeats; ++i) {
    const auto start = std::chrono::steady_clock::now();
    if (auto video = (*generator)->Generate(request, nullptr); !video.ok()) {
      fmt::print(stderr, "error: {}\n", video.error().message);
      return 1;
    }
    if (i > 0) times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(times.begin(), times.end());
  PrintFigure("tiny_t2v_4_steps", times[times.size() / 2], 0);
  return 0;
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
  golden->add_option("--device", golden_args->device, "where the cases run: cpu, cuda, cuda:N")
      ->capture_default_str();
  golden->add_option("--precision", golden_args->precision,
                     "float32 (the sets' tolerances) or bf16 (checked against a share of each output's scale)")
      ->capture_default_str();
  golden->add_option("--threads", golden_args->threads, "intra-op threads (0 = all cores)")
      ->capture_default_str();
  golden->callback([golden_args, &exit_code] { exit_code = RunGolden(*golden_args); });

  auto gen = std::make_shared<GenerateArgs>();
  auto* generate = engine_cmd->add_subcommand(
      "generate", "Text or image to video (.mp4), text to image (.png), or an edit of a video or picture, on this machine");
  generate->add_option("--model", gen->options.model,
                       "preset: tiny, tiny-ti2v, wan2.1-t2v-1.3b, wan2.1-t2v-14b, wan2.2-ti2v-5b, wan2.2-t2v-a14b")
      ->capture_default_str();
  auto* image = generate->add_option("--image", gen->image, "image to video: the first frame (presets that make it: *ti2v*)");
  generate->add_option("--edit", gen->edit, "edit (SDEdit) this video or picture; the output has its length")
      ->excludes(image);
  generate->add_option("--reference", gen->references,
                       "a reference image to follow (VACE presets: *vace*); repeat for several, in order");
  generate->add_option("--mask", gen->mask,
                       "with --edit on a VACE preset: a picture or video, white where to regenerate, black where to keep");
  generate->add_option("--strength", gen->request.strength,
                       fmt::format("how much of the schedule an edit runs again, (0, 1] (default {})",
                                   engine::kDefaultEditStrength));
  generate->add_flag("--keep-audio", gen->keep_audio, "an edited video keeps its input's soundtrack");
  generate->add_flag("--offload-text-encoder", gen->options.offload_text_encoder,
                     "on a GPU, keep the text encoder in host memory, uploaded per prompt");
  generate->add_option("--weights", gen->options.weights_dir, "folder laid out as the official release");
  generate->add_option("--prompt", gen->request.prompt, "what to generate")->required();
  generate->add_option("--negative", gen->request.negative_prompt, "negative prompt (default: the official one)");
  generate->add_option("--size", gen->size, "WIDTHxHEIGHT (default: the model's)");
  generate->add_option("--frames", gen->request.frames, "1 + 4k (default: the model's)");
  generate->add_option("--steps", gen->request.steps, "denoising steps (default: the model's)");
  generate->add_option("--guide-scale", gen->request.guide_scale, "classifier-free guidance (default: the model's)");
  generate->add_option("--shift", gen->request.shift, "sampling shift (default: the model's)");
  generate->add_option("--sampler", gen->request.sampler, "unipc or dpm++")->capture_default_str();
  generate->add_option("--seed", gen->request.seed, "seed (-1 = random)")->capture_default_str();
  generate->add_option("--threads", gen->threads, "intra-op threads (0 = all cores)")->capture_default_str();
  generate->add_option("--device", gen->options.device, "auto, cpu, cuda or cuda:N")->capture_default_str();
  generate->add_option("--precision", gen->options.precision, "auto (bf16 on CUDA, float32 on CPU), float32, bf16")
      ->capture_default_str();
  generate->add_option("--cpu-cache-mb", gen->options.cpu_cache_mb,
                       "MiB of freed CPU blocks kept for the next step to reuse (0 = none)")
      ->capture_default_str();
  generate->add_option("--out", gen->out, "output file, .mp4 or .png")->required();
  generate->callback([gen, &exit_code] { exit_code = RunGenerate(*gen); });

  auto bench_args = std::make_shared<BenchArgs>();
  auto* bench = engine_cmd->add_subcommand("bench", "Engine timings as JSON lines (see bench/engine_bench.sh)");
  bench->add_option("--threads", bench_args->threads, "intra-op threads (0 = all cores)")->capture_default_str();
  bench->add_option("--repeats", bench_args->repeats, "timed runs per figure (median)")->capture_default_str();
  bench->add_option("--write-weights", bench_args->write_weights, "write the mid-size DiT's weights here and stop");
  bench->add_option("--load", bench_args->load, "load these mid-size DiT weights, report peak RSS and stop");
  bench->callback([bench_args, &exit_code] { exit_code = RunBench(*bench_args); });
}

}  // namespace wanserve::cli
