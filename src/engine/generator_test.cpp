// The text-to-video pipeline through the engine's public face, as the CLI and the local
// provider use it: the tiny preset (random weights from a seed), seeds, progress, cancel,
// request checks, and the files `wanserve engine generate` writes.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <unistd.h>
#include <vector>

#include "engine/engine.h"
#include "engine/presets.h"
#include "media/probe.h"
#include "testing/server_process.h"

namespace wanserve::engine {
namespace {
namespace fs = std::filesystem;

class GeneratorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ::setenv("WANSERVE_ENGINE_LIBRARY", WANSERVE_ENGINE_MODULE, 1);
    // One thread: LeakSanitizer (GCC 12) crashes at exit walking the dynamic TLS of OpenMP
    // worker threads started inside the dlopen'd module. The local-engine e2e tests run the
    // server on every core.
    auto threads = SetThreads(1);
    ASSERT_TRUE(threads.ok()) << threads.error().message;
  }

  static std::unique_ptr<Generator> Tiny(uint64_t weight_seed = 0, const std::string& precision = "auto",
                                         const std::string& model = "tiny") {
    GeneratorOptions options;
    options.model = model;
    options.weight_seed = weight_seed;
    options.device = "cpu";
    options.precision = precision;
    auto generator = Generator::Open(options);
    EXPECT_TRUE(generator.ok()) << generator.error().message;
    return generator.ok() ? std::move(*generator) : nullptr;
  }

  // Small enough to stay quick under the sanitizers: 64x64, 5 frames, 3 steps.
  static GenerateRequest Small(const std::string& prompt, int64_t seed) {
    GenerateRequest request;
    request.prompt = prompt;
    request.width = 64;
    request.height = 64;
    request.frames = 5;
    request.steps = 3;
    request.seed = seed;
    return request;
  }
};

// Opening with `options` fails with `code`, and the message names `words` where given.
void ExpectOpenRefused(const GeneratorOptions& options, ErrorCode code, const std::string& words = "") {
  auto opened = Generator::Open(options);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, code);
  if (!words.empty()) {
    EXPECT_NE(opened.error().message.find(words), std::string::npos) << opened.error().message;
  }
}

std::vector<uint8_t> AllPixels(const core::VideoClip& clip) {
  std::vector<uint8_t> pixels;
  for (const auto& frame : clip.frames) pixels.insert(pixels.end(), frame.rgb.begin(), frame.rgb.end());
  return pixels;
}

TEST_F(GeneratorTest, SameSeedSameVideoAndOtherSeedsOrPromptsDiffer) {
  auto generator = Tiny();
  ASSERT_NE(generator, nullptr);
  auto first = generator->Generate(Small("a red fox in the snow", 7), nullptr);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->seed, 7);
  ASSERT_EQ(first->clip.frames.size(), 5u);
  EXPECT_EQ(first->clip.frames[0].width, 64);
  EXPECT_EQ(first->clip.frames[0].height, 64);

  auto again = generator->Generate(Small("a red fox in the snow", 7), nullptr);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(AllPixels(first->clip), AllPixels(again->clip));

  // A second process-wide load of the same preset and seed gives the same weights.
  auto reloaded = Tiny()->Generate(Small("a red fox in the snow", 7), nullptr);
  ASSERT_TRUE(reloaded.ok());
  EXPECT_EQ(AllPixels(first->clip), AllPixels(reloaded->clip));

  auto other_seed = generator->Generate(Small("a red fox in the snow", 8), nullptr);
  ASSERT_TRUE(other_seed.ok());
  EXPECT_NE(AllPixels(first->clip), AllPixels(other_seed->clip));
  auto other_prompt = generator->Generate(Small("a blue whale at dusk", 7), nullptr);
  ASSERT_TRUE(other_prompt.ok());
  EXPECT_NE(AllPixels(first->clip), AllPixels(other_prompt->clip));
}

TEST_F(GeneratorTest, ProgressIsReportedPerStepAndRandomSeedsAreReported) {
  auto generator = Tiny();
  ASSERT_NE(generator, nullptr);
  std::vector<std::pair<int, int>> calls;
  auto video = generator->Generate(Small("waves", -1), [&](int done, int total) {
    calls.emplace_back(done, total);
    return true;
  });
  ASSERT_TRUE(video.ok()) << video.error().message;
  EXPECT_GE(video->seed, 0);
  const std::vector<std::pair<int, int>> expected{{1, 4}, {2, 4}, {3, 4}, {4, 4}};
  EXPECT_EQ(calls, expected);
}

TEST_F(GeneratorTest, CancelStopsBetweenSteps) {
  auto generator = Tiny();
  ASSERT_NE(generator, nullptr);
  int last = 0;
  auto video = generator->Generate(Small("waves", 1), [&](int done, int) {
    last = done;
    return done < 2;
  });
  ASSERT_FALSE(video.ok());
  EXPECT_EQ(video.error().code, ErrorCode::kCanceled);
  EXPECT_EQ(last, 2) << "no step runs after the one that saw the cancel";
}

TEST_F(GeneratorTest, BadRequestsNameTheFieldAndUnknownOrMissingModelsAreClear) {
  auto generator = Tiny();
  ASSERT_NE(generator, nullptr);
  GenerateRequest odd = Small("x", 1);
  odd.width = 72;
  auto width = generator->Generate(odd, nullptr);
  ASSERT_FALSE(width.ok());
  EXPECT_EQ(width.error().field, "width");
  GenerateRequest frames = Small("x", 1);
  frames.frames = 6;
  auto bad_frames = generator->Generate(frames, nullptr);
  ASSERT_FALSE(bad_frames.ok());
  EXPECT_EQ(bad_frames.error().field, "frames");
  auto empty = generator->Generate(Small("", 1), nullptr);
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().field, "prompt");

  GeneratorOptions unknown;
  unknown.model = "wan9";
  ExpectOpenRefused(unknown, ErrorCode::kUnsupportedModel, "wan2.1-t2v-1.3b");

  // Every real preset refuses an empty folder, naming the files it looked for.
  for (const auto& name : PresetNames()) {
    if (FindPreset(name)->random_weights) continue;
    GeneratorOptions real;
    real.model = name;
    real.weights_dir = fs::temp_directory_path().string();
    auto refused = Generator::Open(real);
    ASSERT_FALSE(refused.ok()) << name;
    EXPECT_EQ(refused.error().code, ErrorCode::kNotFound) << name;
    EXPECT_NE(refused.error().message.find("models_t5_umt5-xxl-enc-bf16.pth"), std::string::npos) << name;
    EXPECT_NE(refused.error().message.find("spiece.model"), std::string::npos) << name;
  }
}

// A picture whose colours move with `shift`, `w` x `h`.
core::RgbImage Picture(int w, int h, int shift) {
  core::RgbImage image{w, h, std::vector<uint8_t>(static_cast<size_t>(w) * h * 3)};
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      uint8_t* p = &image.rgb[(static_cast<size_t>(y) * w + x) * 3];
      p[0] = static_cast<uint8_t>(x * 4 + shift);
      p[1] = static_cast<uint8_t>(y * 4);
      p[2] = static_cast<uint8_t>(128 + shift);
    }
  }
  return image;
}

double MeanAbsDiff(const core::VideoClip& clip, const std::vector<core::RgbImage>& source) {
  double sum = 0;
  size_t n = 0;
  for (size_t f = 0; f < clip.frames.size(); ++f) {
    for (size_t i = 0; i < clip.frames[f].rgb.size(); ++i) {
      sum += std::abs(static_cast<int>(clip.frames[f].rgb[i]) - static_cast<int>(source[f].rgb[i]));
      ++n;
    }
  }
  return sum / static_cast<double>(n);
}

TEST_F(GeneratorTest, AnEditKeepsItsSourcesLengthAndALowerStrengthLeavesLessToTheNoise) {
  auto generator = Tiny();
  ASSERT_NE(generator, nullptr);
  GenerateRequest request = Small("clay", 4);
  request.steps = 4;
  for (int f = 0; f < 7; ++f) request.source.push_back(Picture(64, 64, f * 9));  // not 1 + 4k frames
  std::vector<int> totals;
  request.strength = 0.25;
  auto light = generator->Generate(request, [&](int, int total) { totals.push_back(total); return true; });
  ASSERT_TRUE(light.ok()) << light.error().message;
  ASSERT_EQ(light->clip.frames.size(), 7u) << "padded to 1 + 4k for the VAE, trimmed back";
  EXPECT_EQ(light->clip.frames[0].width, 64);
  EXPECT_EQ(totals.back(), 4 - 3 + 1) << "int(4 x 0.25) = 1 step run, then the decode";
  request.seed = 5;
  auto light_other_seed = generator->Generate(request, nullptr);
  request.strength = 1.0;
  auto full_other_seed = generator->Generate(request, nullptr);
  request.seed = 4;
  auto full = generator->Generate(request, nullptr);
  ASSERT_TRUE(full.ok() && light_other_seed.ok() && full_other_seed.ok());
  // Random weights reconstruct nothing, but the source's share of the start is still visible:
  // two seeds differ less where less of the schedule is run again.
  EXPECT_LT(MeanAbsDiff(light->clip, light_other_seed->clip.frames), MeanAbsDiff(full->clip, full_other_seed->clip.frames))
      << "strength is how much of the result the noise decides";
  auto again = generator->Generate(request, nullptr);
  EXPECT_EQ(AllPixels(full->clip), AllPixels(again->clip)) << "an edit is reproducible from its seed";

  request.strength = 0;
  auto none = generator->Generate(request, nullptr);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().field, "strength");
}

TEST_F(GeneratorTest, AnEditLongerThanOnePassRunsInOverlappingWindowsReportedAsOneRun) {
  auto generator = Tiny();
  ASSERT_NE(generator, nullptr);
  GenerateRequest request = Small("clay", 4);
  request.width = 32;
  request.height = 32;
  request.steps = 2;
  request.strength = 1.0;
  for (int f = 0; f < 86; ++f) request.source.push_back(Picture(48, 40, f));  // cropped to 32x32
  std::vector<std::pair<int, int>> steps;
  auto edited = generator->Generate(request, [&](int done, int total) { steps.emplace_back(done, total); return true; });
  ASSERT_TRUE(edited.ok()) << edited.error().message;
  EXPECT_EQ(edited->clip.frames.size(), 86u) << "81 frames, then 13 more overlapping the first by 8";
  EXPECT_EQ(edited->clip.frames[85].width, 32);
  ASSERT_FALSE(steps.empty());
  EXPECT_EQ(steps.back(), std::make_pair(6, 6)) << "two windows of 2 steps and a decode";
}

TEST_F(GeneratorTest, ImageToVideoStartsFromThePictureOnPresetsThatMakeIt) {
  auto plain = Tiny();
  ASSERT_NE(plain, nullptr);
  GenerateRequest request = Small("a walk", 2);
  request.first_frame = Picture(100, 80, 0);
  auto refused = plain->Generate(request, nullptr);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().field, "image") << "tiny has Wan 2.1's shapes: no image to video";

  auto ti2v = Tiny(0, "auto", "tiny-ti2v");
  ASSERT_NE(ti2v, nullptr);
  request.frames = 9;
  auto a = ti2v->Generate(request, nullptr);
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->clip.frames.size(), 9u);
  EXPECT_EQ(a->clip.fps, 24);
  request.first_frame = Picture(100, 80, 90);
  auto b = ti2v->Generate(request, nullptr);
  ASSERT_TRUE(b.ok());
  EXPECT_NE(AllPixels(a->clip), AllPixels(b->clip)) << "the picture decides the video";
}

TEST_F(GeneratorTest, VacePresetsFollowReferencesAndMasksAndOthersRefuseThem) {
  auto plain = Tiny();
  ASSERT_NE(plain, nullptr);
  GenerateRequest request = Small("Image 1 walks", 4);
  request.steps = 2;
  request.references = {Picture(50, 30, 0)};
  auto refused = plain->Generate(request, nullptr);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().field, "references");

  auto vace = Tiny(0, "auto", "tiny-vace");
  ASSERT_NE(vace, nullptr);
  request.frames = 9;
  auto a = vace->Generate(request, nullptr);
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->clip.frames.size(), 9u) << "the reference's latent frame is not part of the video";
  request.references = {Picture(50, 30, 120)};
  auto b = vace->Generate(request, nullptr);
  ASSERT_TRUE(b.ok());
  EXPECT_NE(AllPixels(a->clip), AllPixels(b->clip)) << "the reference decides the video";

  // A masked edit: the mask reaches the model, one picture for every frame or one per frame.
  request.references.clear();
  request.frames = 0;
  for (int f = 0; f < 5; ++f) request.source.push_back(Picture(64, 64, f * 20));
  auto whole = vace->Generate(request, nullptr);
  ASSERT_TRUE(whole.ok()) << whole.error().message;
  EXPECT_EQ(whole->clip.frames.size(), 5u);
  request.mask = {Picture(64, 64, 0)};
  for (size_t i = 0; i < request.mask[0].rgb.size() / 2; ++i) request.mask[0].rgb[i] = 255;  // top half white
  auto masked = vace->Generate(request, nullptr);
  ASSERT_TRUE(masked.ok()) << masked.error().message;
  EXPECT_NE(AllPixels(whole->clip), AllPixels(masked->clip)) << "what to keep changes the context";
  request.mask.resize(3, request.mask[0]);
  auto miscounted = vace->Generate(request, nullptr);
  ASSERT_FALSE(miscounted.ok());
  EXPECT_EQ(miscounted.error().field, "mask");
  request.mask.resize(1);
  auto no_vace = plain->Generate(request, nullptr);
  ASSERT_FALSE(no_vace.ok());
  EXPECT_EQ(no_vace.error().field, "mask");
}

// The two A14B experts: the high-noise one runs while t >= 875, then the low-noise one.
TEST(PresetTest, RealPresetsCarryTheOfficialShapesAndDefaults) {
  const Preset* a14b = FindPreset("wan2.2-t2v-a14b");
  ASSERT_NE(a14b, nullptr);
  EXPECT_EQ(a14b->dit_paths, (std::vector<std::string>{"high_noise_model", "low_noise_model"}));
  EXPECT_DOUBLE_EQ(a14b->boundary, 0.875);
  EXPECT_EQ(a14b->steps, 40);
  EXPECT_DOUBLE_EQ(a14b->shift, 12.0);
  const Preset* five = FindPreset("wan2.2-ti2v-5b");
  ASSERT_NE(five, nullptr);
  EXPECT_EQ(five->dit.at("in_dim"), 48);
  EXPECT_EQ(five->vae_file, "Wan2.2_VAE.pth");
  const Preset* small = FindPreset("wan2.1-t2v-1.3b");
  ASSERT_NE(small, nullptr);
  EXPECT_EQ(small->dit.at("dim"), 1536);
  EXPECT_EQ(small->dit.at("num_layers"), 30);
}

// Runs `wanserve engine generate` with the arguments; a failure shows what the command printed.
::testing::AssertionResult Generates(std::vector<std::string> args, int expected_exit = 0) {
  args.insert(args.begin(), {wanserve::testing::WanserveBinary(), "engine", "generate", "--steps", "2", "--seed", "3",
                             "--threads", "1"});  // one thread: see SetUpTestSuite
  const auto run = wanserve::testing::RunCommand(args);
  if (run.exit_code == expected_exit) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "exit " << run.exit_code << " (expected " << expected_exit << ")\n"
                                       << run.out << run.err;
}

// What a user runs: the CLI writes files that FFmpeg and libvips decode.
TEST(EngineGenerateCliTest, WritesAPlayableMp4AndAPng) {
  const fs::path dir = fs::temp_directory_path() / ("ws_generate_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::vector<std::string> common = {"--model", "tiny", "--prompt", "a lighthouse at night", "--size", "64x64"};
  const auto with = [&](std::vector<std::string> more) {
    more.insert(more.begin(), common.begin(), common.end());
    return more;
  };
  ASSERT_TRUE(Generates(with({"--frames", "9", "--out", (dir / "v.mp4").string()})));
  auto video = media::ProbeVideoFile((dir / "v.mp4").string());
  ASSERT_TRUE(video.ok()) << video.error().message;
  EXPECT_EQ(video->video_codec, "h264");
  EXPECT_EQ(video->width, 64);
  EXPECT_EQ(video->frames, 9);
  EXPECT_NEAR(video->fps, 16, 0.01);

  ASSERT_TRUE(Generates(with({"--out", (dir / "i.png").string()})));
  auto image = media::ProbeImageFile((dir / "i.png").string());
  ASSERT_TRUE(image.ok()) << image.error().message;
  EXPECT_EQ(image->width, 64);
  EXPECT_EQ(image->height, 64);

  // Without weights a real preset is refused before anything is written.
  const auto refused = wanserve::testing::RunCommand({wanserve::testing::WanserveBinary(), "engine", "generate",
                                                      "--model", "wan2.1-t2v-14b", "--weights", dir.string(),
                                                      "--prompt", "x", "--out", (dir / "none.mp4").string()});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_FALSE(fs::exists(dir / "none.mp4"));
  fs::remove_all(dir);
}

// Image to video and edits from the command line, on the files a user has.
TEST(EngineGenerateCliTest, MakesVideoFromAPictureAndEditsAVideoKeepingItsLengthAndSound) {
  const fs::path dir = fs::temp_directory_path() / ("ws_edit_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string picture = (dir / "in.png").string(), clip = (dir / "in.mp4").string();
  ASSERT_EQ(std::system(("ffmpeg -hide_banner -loglevel error -y -f lavfi -i testsrc2=size=300x200 -frames:v 1 " +
                         picture).c_str()), 0);
  ASSERT_EQ(std::system(("ffmpeg -hide_banner -loglevel error -y -f lavfi -i testsrc2=size=320x240:rate=30 -f lavfi "
                         "-i sine=frequency=440:sample_rate=48000 -t 1 -pix_fmt yuv420p -c:a aac " + clip).c_str()), 0);

  ASSERT_TRUE(Generates({"--prompt", "in clay", "--model", "tiny-ti2v", "--image", picture, "--frames", "9", "--out",
                         (dir / "i2v.mp4").string()}));
  auto i2v = media::ProbeVideoFile((dir / "i2v.mp4").string());
  ASSERT_TRUE(i2v.ok()) << i2v.error().message;
  EXPECT_EQ(i2v->frames, 9);
  EXPECT_NEAR(i2v->fps, 24, 0.01);
  EXPECT_TRUE(Generates({"--prompt", "in clay", "--model", "tiny", "--image", picture, "--out",
                         (dir / "no.mp4").string()}, 2)) << "tiny makes no video from a picture";

  ASSERT_TRUE(Generates({"--prompt", "in clay", "--model", "tiny", "--edit", clip, "--keep-audio", "--strength", "0.5",
                         "--out", (dir / "edit.mp4").string()}));
  auto edit = media::ProbeVideoFile((dir / "edit.mp4").string());
  ASSERT_TRUE(edit.ok()) << edit.error().message;
  EXPECT_EQ(edit->frames, 16) << "1 s at the preset's 16 fps";
  EXPECT_TRUE(edit->has_audio);
  EXPECT_NEAR(static_cast<double>(edit->width) / edit->height, 4.0 / 3.0, 0.1) << "the input's aspect ratio";

  ASSERT_TRUE(Generates({"--prompt", "in clay", "--model", "tiny", "--edit", picture, "--out",
                         (dir / "edit.png").string()}));
  auto restyled = media::ProbeImageFile((dir / "edit.png").string());
  ASSERT_TRUE(restyled.ok()) << restyled.error().message;
  EXPECT_NEAR(static_cast<double>(restyled->width) / restyled->height, 1.5, 0.2) << "on the 16-pixel grid at tiny sizes";
  fs::remove_all(dir);
}

TEST_F(GeneratorTest, Bf16RunsTheSameVideoWithinBf16RoundingAndReproducibly) {
  auto exact = Tiny(0, "float32");
  auto bf16 = Tiny(0, "bf16");
  ASSERT_NE(exact, nullptr);
  ASSERT_NE(bf16, nullptr);
  EXPECT_EQ(exact->placement(), "cpu float32");
  EXPECT_EQ(bf16->placement(), "cpu bf16");
  auto a = exact->Generate(Small("a lighthouse at dusk", 11), nullptr);
  auto b = bf16->Generate(Small("a lighthouse at dusk", 11), nullptr);
  auto again = bf16->Generate(Small("a lighthouse at dusk", 11), nullptr);
  ASSERT_TRUE(a.ok() && b.ok() && again.ok());
  const auto pa = AllPixels(a->clip);
  const auto pb = AllPixels(b->clip);
  ASSERT_EQ(pa.size(), pb.size());
  EXPECT_EQ(pb, AllPixels(again->clip)) << "a seed reproduces a bf16 run exactly";
  double abs_sum = 0;
  int max_diff = 0;
  size_t changed = 0;
  for (size_t i = 0; i < pa.size(); ++i) {
    const int d = std::abs(static_cast<int>(pa[i]) - static_cast<int>(pb[i]));
    abs_sum += d;
    max_diff = std::max(max_diff, d);
    changed += d > 0;
  }
  // bf16 keeps 8 bits of mantissa: the video moves by a few levels, not to another picture.
  EXPECT_GT(changed, 0u) << "the bf16 run must actually compute in bf16";
  EXPECT_LT(abs_sum / static_cast<double>(pa.size()), 3.0);
  EXPECT_LT(max_diff, 64);
}

TEST_F(GeneratorTest, UnknownDevicesAndPrecisionsAreRefusedAndCudaNeedsACudaLibtorch) {
  GeneratorOptions options;
  options.device = "gpu";
  ExpectOpenRefused(options, ErrorCode::kInvalidInput, "cpu, cuda or cuda:N");

  options.device = "cpu";
  options.precision = "fp8";
  ExpectOpenRefused(options, ErrorCode::kInvalidInput);

  options.precision = "auto";
  options.cpu_cache_mb = -1;
  ExpectOpenRefused(options, ErrorCode::kInvalidInput, "cpu_cache_mb");

  options.cpu_cache_mb = 512;
  options.device = "cuda:7";
  auto cuda = Generator::Open(options);
  if (cuda.ok()) {
    EXPECT_EQ(cuda.value()->placement(), "cuda:7 bf16");
  } else {
    EXPECT_EQ(cuda.error().code, ErrorCode::kUnavailable) << cuda.error().message;
    EXPECT_NE(cuda.error().message.find("cuda"), std::string::npos);
  }
  options.device = "auto";
  auto automatic = Generator::Open(options);
  ASSERT_TRUE(automatic.ok()) << automatic.error().message;
  const std::string where = automatic.value()->placement();
  EXPECT_TRUE(where == "cpu float32" || where == "cuda:0 bf16") << where;
}

}  // namespace
}  // namespace wanserve::engine
