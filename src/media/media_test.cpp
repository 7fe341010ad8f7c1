#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <chrono>
#include <fstream>

#include "media/local_blob_store.h"
#include "media/encode.h"
#include "media/probe.h"
#include "media/url_signer.h"
#include "testing/server_process.h"
#include "testing/temp_dir.h"

namespace wanserve::media {
namespace {

core::RgbImage Gradient(int w, int h, int shift) {
  core::RgbImage img{w, h, std::vector<uint8_t>(static_cast<size_t>(w) * h * 3)};
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      auto* p = &img.rgb[(static_cast<size_t>(y) * w + x) * 3];
      p[0] = static_cast<uint8_t>(x + shift);
      p[1] = static_cast<uint8_t>(y);
      p[2] = static_cast<uint8_t>(shift * 3);
    }
  }
  return img;
}

TEST(Encode, PngDecodesToTheSameSize) {
  testing::TempDir dir;
  auto png = EncodeImage(Gradient(320, 200, 0), ImageFormat::kPng);
  ASSERT_TRUE(png.ok()) << png.error().message;
  EXPECT_EQ(png->substr(1, 3), "PNG");
  auto path = dir.path() / "a.png";
  std::ofstream(path, std::ios::binary) << *png;
  auto info = ProbeImageFile(path.string());
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->width, 320);
  EXPECT_EQ(info->height, 200);
}

TEST(Encode, JpegAndWebpToo) {
  EXPECT_TRUE(EncodeImage(Gradient(64, 64, 0), ImageFormat::kJpeg).ok());
  EXPECT_TRUE(EncodeImage(Gradient(64, 64, 0), ImageFormat::kWebp).ok());
  EXPECT_FALSE(EncodeImage(core::RgbImage{4, 4, {1, 2, 3}}, ImageFormat::kPng).ok());
}

TEST(Encode, Mp4HasTheFramesSizeDurationAndAudio) {
  testing::TempDir dir;
  core::VideoClip clip;
  clip.fps = 16;
  for (int i = 0; i < 32; ++i) clip.frames.push_back(Gradient(160, 96, i * 4));
  clip.sample_rate = 48000;
  clip.audio.resize(48000 * 2);
  for (size_t i = 0; i < clip.audio.size(); ++i) {
    clip.audio[i] = 0.3f * static_cast<float>(std::sin(i * 2 * M_PI * 440 / 48000.0));
  }
  auto path = (dir.path() / "v.mp4").string();
  auto st = EncodeMp4(clip, path);
  ASSERT_TRUE(st.ok()) << st.error().message;
  auto info = ProbeVideoFile(path);
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->video_codec, "h264");
  EXPECT_EQ(info->width, 160);
  EXPECT_EQ(info->height, 96);
  EXPECT_EQ(info->frames, 32);
  EXPECT_NEAR(info->duration_s, 2.0, 0.1);
  EXPECT_TRUE(info->has_audio);
  EXPECT_EQ(info->audio_codec, "aac");
}

// The top-level boxes of an MP4 file, in order.
std::vector<std::string> TopLevelBoxes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<std::string> boxes;
  for (;;) {
    unsigned char head[8];
    if (!in.read(reinterpret_cast<char*>(head), 8)) return boxes;
    uint64_t size = (uint64_t{head[0]} << 24) | (uint64_t{head[1]} << 16) | (uint64_t{head[2]} << 8) | head[3];
    boxes.emplace_back(reinterpret_cast<char*>(head + 4), 4);
    if (size == 1) {
      unsigned char large[8];
      in.read(reinterpret_cast<char*>(large), 8);
      size = 0;
      for (unsigned char b : large) size = (size << 8) | b;
      in.seekg(static_cast<std::streamoff>(size - 16), std::ios::cur);
    } else if (size < 8) {
      return boxes;
    } else {
      in.seekg(static_cast<std::streamoff>(size - 8), std::ios::cur);
    }
  }
}

TEST(Encode, Mp4StartsWithItsIndexAndTellsItsColours) {
  testing::TempDir dir;
  core::VideoClip clip;
  clip.fps = 16;
  for (int i = 0; i < 16; ++i) clip.frames.push_back(Gradient(160, 96, i * 4));
  const auto path = (dir.path() / "v.mp4").string();
  ASSERT_TRUE(EncodeMp4(clip, path).ok());
  const auto boxes = TopLevelBoxes(path);
  const auto moov = std::find(boxes.begin(), boxes.end(), "moov");
  const auto mdat = std::find(boxes.begin(), boxes.end(), "mdat");
  ASSERT_NE(moov, boxes.end());
  ASSERT_NE(mdat, boxes.end());
  EXPECT_LT(moov, mdat) << "a player can start before the download ends";
  const auto probe = testing::RunCommand({"ffprobe", "-v", "error", "-select_streams", "v", "-show_streams", path});
  ASSERT_EQ(probe.exit_code, 0) << probe.err;
  EXPECT_NE(probe.out.find("color_range=tv"), std::string::npos) << probe.out;
  EXPECT_NE(probe.out.find("color_space=smpte170m"), std::string::npos);
  EXPECT_NE(probe.out.find("color_primaries=bt709"), std::string::npos);
  EXPECT_NE(probe.out.find("color_transfer=bt709"), std::string::npos);
}

TEST(Encode, OddSizesAreRefusedNotCrashed) {
  testing::TempDir dir;
  core::VideoClip clip;
  clip.frames.push_back(Gradient(33, 20, 0));
  EXPECT_FALSE(EncodeMp4(clip, (dir.path() / "v.mp4").string()).ok());
}

TEST(Probe, TruncatedVideoAndGarbageAreErrors) {
  testing::TempDir dir;
  core::VideoClip clip;
  for (int i = 0; i < 16; ++i) clip.frames.push_back(Gradient(64, 64, i));
  auto path = (dir.path() / "v.mp4").string();
  ASSERT_TRUE(EncodeMp4(clip, path).ok());
  std::string bytes;
  {
    std::ifstream f(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(f), {});
  }
  auto cut = (dir.path() / "cut.mp4").string();
  std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() / 3);
  EXPECT_FALSE(ProbeVideoFile(cut).ok());
  auto junk = (dir.path() / "junk.png").string();
  std::ofstream(junk, std::ios::binary) << "not an image at all";
  EXPECT_FALSE(ProbeImageFile(junk).ok());
}

TEST(UrlSigner, SignsVerifiesAndExpires) {
  UrlSigner signer("server-secret");
  const std::string id = "0123456789abcdef0123456789abcdef.png";
  auto path = signer.SignedPath(id, 2000);
  auto sig = path.substr(path.find("sig=") + 4);
  EXPECT_TRUE(signer.Verify(id, "2000", sig, 1999).ok());
  EXPECT_EQ(signer.Verify(id, "2000", sig, 2001).error().code, ErrorCode::kForbidden);
  EXPECT_FALSE(signer.Verify(id, "2001", sig, 1999).ok());      // extended expiry
  EXPECT_FALSE(signer.Verify("1123456789abcdef0123456789abcdef.png", "2000", sig, 1999).ok());
  EXPECT_FALSE(UrlSigner("other").Verify(id, "2000", sig, 1999).ok());
  EXPECT_FALSE(signer.Verify(id, "20x0", sig, 1999).ok());
}

}  // namespace
}  // namespace wanserve::media
