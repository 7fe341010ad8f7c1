#include "media/inputs.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <chrono>
#include <fstream>
#include <map>
#include <sstream>

#include "media/local_blob_store.h"
#include "testing/loopback_http_server.h"
#include "testing/server_process.h"
#include "testing/temp_dir.h"

namespace wanserve::media {
namespace {

using testing::ReceivedRequest;
using testing::ScriptedResponse;

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Real media made by the ffmpeg command line, served by a loopback HTTP server.
class InputFetcherTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    auto make = [](const std::string& name, const std::vector<std::string>& args) {
      std::vector<std::string> argv = {"ffmpeg", "-hide_banner", "-loglevel", "error", "-y"};
      argv.insert(argv.end(), args.begin(), args.end());
      argv.push_back((dir_->path() / name).string());
      auto r = testing::RunCommand(argv);
      ASSERT_EQ(r.exit_code, 0) << name << ": " << r.err;
    };
    auto video = [&](const std::string& name, const std::string& size, double seconds) {
      make(name, {"-f", "lavfi", "-i", "testsrc=size=" + size + ":rate=16", "-f", "lavfi", "-i",
                  "sine=frequency=440:sample_rate=16000", "-t", std::to_string(seconds), "-c:v", "libx264",
                  "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest"});
    };
    video("ok.mp4", "320x240", 3);
    video("short.mp4", "320x240", 1);
    video("long.mp4", "320x240", 12);
    video("small.mp4", "200x200", 3);
    video("wide.mp4", "2400x256", 2.5);
    video("ok.mov", "320x256", 2.5);
    make("clip.mkv", {"-f", "lavfi", "-i", "testsrc=size=320x240:rate=16", "-t", "3", "-c:v", "libx264",
                      "-preset", "ultrafast"});
    make("big.png", {"-f", "lavfi", "-i", "testsrc=size=512x512", "-frames:v", "1"});
    make("small.png", {"-f", "lavfi", "-i", "testsrc=size=300x300", "-frames:v", "1"});
    make("photo.jpg", {"-f", "lavfi", "-i", "testsrc=size=640x480", "-frames:v", "1"});
    make("anim.gif", {"-f", "lavfi", "-i", "testsrc=size=400x400", "-frames:v", "1"});
    make("voice.mp3", {"-f", "lavfi", "-i", "sine=frequency=300:duration=3"});
    make("blip.wav", {"-f", "lavfi", "-i", "sine=frequency=300:duration=1"});
    make("song.ogg", {"-f", "lavfi", "-i", "sine=frequency=300:duration=3", "-c:a", "libvorbis"});
    const std::string ok = ReadFile(dir_->path() / "ok.mp4");
    std::ofstream(dir_->path() / "truncated.mp4", std::ios::binary) << ok.substr(0, ok.size() / 2);
    const std::string png = ReadFile(dir_->path() / "big.png");
    std::ofstream(dir_->path() / "truncated.png", std::ios::binary) << png.substr(0, png.size() / 2);
  }
  static void TearDownTestSuite() { delete dir_; }

  InputFetcherTest()
      : server_([](const ReceivedRequest& r, int) {
          if (r.target == "/missing") return ScriptedResponse(404, {}, "not here");
          if (r.target == "/lying") {
            return ScriptedResponse::Raw("HTTP/1.1 200 OK\r\nContent-Length: 500000000\r\n\r\n" + std::string(100, 'x'));
          }
          return ScriptedResponse(200, {}, ReadFile(dir_->path() / r.target.substr(1)));
        }),
        client_([] {
          net::OutboundOptions o;
          o.allowlist = *net::ParseAllowList("127.0.0.1/32");
          return o;
        }()),
        blobs_(scratch_.path() / "blobs"),
        signer_("test-secret"),
        own_({&blobs_}, signer_, "http://files.example", MakeSystemClock()),
        fetcher_(client_, own_, scratch_.path() / "inputs") {}

  Error Failure(const core::GenerationRequest& r, const InputFetcher* fetcher = nullptr) {
    auto got = (fetcher ? *fetcher : fetcher_).Prepare("task1", r);
    EXPECT_FALSE(got.ok());
    return got.ok() ? Error{} : got.error();
  }
  core::GenerationRequest Video(const std::string& name) {
    core::GenerationRequest r;
    r.kind = core::RequestKind::kVideoEdit;
    r.video_url = server_.Url("/" + name);
    return r;
  }
  core::GenerationRequest Images(std::vector<std::string> names, int min_side = 0) {
    core::GenerationRequest r;
    r.kind = core::RequestKind::kImageEdit;
    for (const auto& n : names) r.image_urls.push_back(server_.Url("/" + n));
    r.min_image_side = min_side;
    return r;
  }

  static testing::TempDir* dir_;
  testing::TempDir scratch_;
  testing::LoopbackHttpServer server_;
  net::OutboundClient client_;
  LocalBlobStore blobs_;
  UrlSigner signer_;
  OwnLinks own_;
  InputFetcher fetcher_;
};
testing::TempDir* InputFetcherTest::dir_ = nullptr;

TEST_F(InputFetcherTest, AcceptsWhatTheSeedsAllowAndReportsWhatItFound) {
  core::GenerationRequest r = Video("ok.mp4");
  r.image_urls = {server_.Url("/photo.jpg"), server_.Url("/big.png")};
  r.audio_urls = {server_.Url("/voice.mp3")};
  auto got = fetcher_.Prepare("task1", r);
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(got->video->info.width, 320);
  EXPECT_NEAR(got->video->info.duration_s, 3.0, 0.1);
  EXPECT_EQ(got->images.at(0).info.width, 640);
  EXPECT_EQ(got->images.at(1).info.height, 512);
  EXPECT_NEAR(got->audio.at(0).info.duration_s, 3.0, 0.1);
  EXPECT_TRUE(std::filesystem::exists(got->video->path));
  fetcher_.Cleanup("task1");
  EXPECT_FALSE(std::filesystem::exists(got->video->path));
  EXPECT_TRUE(fetcher_.Prepare("task2", Video("ok.mov")).ok());
}

TEST_F(InputFetcherTest, EachBadVideoGetsItsOwnCode) {
  const std::map<std::string, std::pair<std::string, std::string>> cases = {
      {"short.mp4", {"video_too_short", "video is 1.0 s; 2-10 s is required"}},
      {"long.mp4", {"video_too_long", "video is 12.0 s; 2-10 s is required"}},
      {"small.mp4", {"video_too_small", "video is 200x200; sides of 240-4096 px are required"}},
      {"wide.mp4", {"video_aspect_ratio", "video is 2400x256; an aspect ratio between 1:8 and 8:1 is required"}},
      {"clip.mkv", {"video_format_unsupported", "video is matroska,webm; MP4 or MOV is required"}},
      {"truncated.mp4", {"video_corrupt", "video: "}},
      {"photo.jpg", {"video_format_unsupported", "video is jpeg_pipe; MP4 or MOV is required"}},
      {"missing", {"video_unreachable", "video could not be downloaded: "}},
      {"lying", {"input_too_large", "video is larger than 100 MB"}},
  };
  for (const auto& [name, expected] : cases) {
    Error e = Failure(Video(name));
    EXPECT_EQ(e.detail_code, expected.first) << name << ": " << e.message;
    EXPECT_TRUE(e.message.starts_with(expected.second)) << name << ": " << e.message;
    EXPECT_EQ(e.code, ErrorCode::kInvalidInput) << name;
  }
}

TEST_F(InputFetcherTest, EachBadImageOrAudioGetsItsOwnCode) {
  Error small = Failure(Images({"big.png", "small.png"}, 384));
  EXPECT_EQ(small.detail_code, "image_too_small");
  EXPECT_EQ(small.message, "image 2 is 300x300, minimum 384x384");
  EXPECT_TRUE(fetcher_.Prepare("t", Images({"small.png"})).ok()) << "240 px is the default minimum";
  EXPECT_EQ(Failure(Images({"anim.gif"})).detail_code, "image_format_unsupported");
  EXPECT_EQ(Failure(Images({"anim.gif"})).message, "image 1 is GIF; JPEG, PNG, BMP or WebP is required");
  EXPECT_EQ(Failure(Images({"ok.mp4"})).detail_code, "image_format_unsupported");
  EXPECT_EQ(Failure(Images({"truncated.png"})).detail_code, "image_corrupt");

  auto audio = [&](const std::string& name) {
    core::GenerationRequest r;
    r.kind = core::RequestKind::kTextToVideo;
    r.audio_urls = {server_.Url("/" + name)};
    return r;
  };
  EXPECT_EQ(Failure(audio("blip.wav")).detail_code, "audio_too_short");
  EXPECT_EQ(Failure(audio("song.ogg")).detail_code, "audio_format_unsupported");
  EXPECT_EQ(Failure(audio("long.mp4")).detail_code, "audio_format_unsupported");
}

TEST_F(InputFetcherTest, InputFoldersACrashLeftAreSweptOnlyWhenTheirTaskIsOver) {
  const auto root = scratch_.path() / "inputs";
  const auto old = std::filesystem::file_time_type::clock::now() - std::chrono::hours(7);
  for (const char* task : {"done", "running", "fresh"}) {
    std::filesystem::create_directories(root / task);
    std::ofstream(root / task / "image_0.png") << "x";
    if (std::string(task) != "fresh") std::filesystem::last_write_time(root / task, old);
  }
  const int removed = fetcher_.SweepLeftovers(std::filesystem::file_time_type::clock::now() - std::chrono::hours(6),
                                              [](const std::string& task) { return task != "running"; });
  EXPECT_EQ(removed, 1);
  EXPECT_FALSE(std::filesystem::exists(root / "done"));
  EXPECT_TRUE(std::filesystem::exists(root / "running")) << "its task may still read it";
  EXPECT_TRUE(std::filesystem::exists(root / "fresh"));
}

TEST_F(InputFetcherTest, SizeCapsHoldWhileStreaming) {
  InputLimits tight;
  tight.max_image_bytes = 2000;
  InputFetcher fetcher(client_, own_, scratch_.path() / "inputs", tight);
  Error e = Failure(Images({"big.png"}), &fetcher);
  EXPECT_EQ(e.detail_code, "input_too_large");
  EXPECT_EQ(e.message, "image 1 is larger than 2000 bytes");
}

TEST_F(InputFetcherTest, InternalAddressesAreRefusedAndOwnLinksReadWithoutTheNetwork) {
  core::GenerationRequest r;
  r.kind = core::RequestKind::kImageEdit;
  r.image_urls = {"http://169.254.169.254/latest/meta-data/"};
  EXPECT_EQ(Failure(r).detail_code, "address_blocked");

  const std::string id = blobs_.NewId("png");
  ASSERT_TRUE(blobs_.Write(id, ReadFile(dir_->path() / "big.png")).ok());
  const int64_t exp = MakeSystemClock()->NowMs() / 1000 + 3600;
  r.image_urls = {"http://files.example" + signer_.SignedPath(id, exp)};
  const int before = server_.Connections();
  auto got = fetcher_.Prepare("own", r);
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(got->images.at(0).info.width, 512);
  EXPECT_EQ(server_.Connections(), before);
  r.image_urls = {"http://files.example/files/" + id + "?exp=" + std::to_string(exp) + "&sig=00"};
  EXPECT_EQ(Failure(r).detail_code, "image_unreachable");
}

TEST(ApplyInputs, KeepsTheInputsDurationAndRatioWhenAsked) {
  PreparedInputs inputs;
  inputs.video = InputFile{"video", "v.mp4", {}};
  inputs.video->info.width = 720;
  inputs.video->info.height = 1280;
  inputs.video->info.duration_s = 7.4;
  core::GenerationRequest r;
  r.kind = core::RequestKind::kVideoEdit;
  r.width = 1280;
  r.height = 720;
  core::GenerationRequest applied = ApplyInputs(r, inputs);
  EXPECT_EQ(applied.duration_s, 7);
  EXPECT_EQ(applied.width, 720);
  EXPECT_EQ(applied.height, 1280);
  r.duration_s = 3;
  r.aspect_ratio = "16:9";
  applied = ApplyInputs(r, inputs);
  EXPECT_EQ(applied.duration_s, 3);
  EXPECT_EQ(applied.width, 1280) << "an explicit ratio wins";
}

}  // namespace
}  // namespace wanserve::media
