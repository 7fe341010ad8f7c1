#include <gtest/gtest.h>

#include <cmath>
#include <chrono>
#include <fstream>

#include "media/blob_store.h"
#include "media/encode.h"
#include "media/probe.h"
#include "media/url_signer.h"
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

TEST(BlobStore, IdsCannotEscapeTheStore) {
  testing::TempDir dir;
  BlobStore blobs(dir.path() / "blobs");
  auto id = blobs.NewId("png");
  EXPECT_TRUE(BlobStore::IsValidId(id));
  for (const char* bad : {"../etc/passwd", "..%2f..%2fx.png", "0123456789abcdef0123456789abcdef.sh",
                          "0123456789ABCDEF0123456789abcdef.png", "", "/abs.png",
                          "0123456789abcdef0123456789abcdef.png/../../x"}) {
    EXPECT_FALSE(BlobStore::IsValidId(bad)) << bad;
    EXPECT_FALSE(blobs.PathFor(bad).ok()) << bad;
  }
  auto size = blobs.Write(id, "hello");
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(*size, 5);
  EXPECT_TRUE(std::filesystem::exists(*blobs.PathFor(id)));
  EXPECT_EQ(BlobStore::ContentTypeFor(id), "image/png");
  ASSERT_TRUE(blobs.Delete(id).ok());
  EXPECT_FALSE(std::filesystem::exists(*blobs.PathFor(id)));
}

TEST(BlobStore, StaleHalfWrittenFilesAreSweptAndFreshOnesAndBlobsKept) {
  testing::TempDir dir;
  BlobStore blobs(dir.path() / "blobs");
  const auto now = std::filesystem::file_time_type::clock::now();
  const auto stale = dir.path() / "blobs" / "tmp" / "0123456789abcdef0123456789abcdef.mp4.part";
  const auto fresh = dir.path() / "blobs" / "tmp" / "fedcba9876543210fedcba9876543210.mp4.part";
  std::ofstream(stale) << "half";
  std::ofstream(fresh) << "half";
  std::filesystem::last_write_time(stale, now - std::chrono::hours(7));
  const std::string id = blobs.NewId("png");
  ASSERT_TRUE(blobs.Write(id, "whole").ok());
  std::filesystem::last_write_time(*blobs.PathFor(id), now - std::chrono::hours(7));
  EXPECT_EQ(blobs.DeleteStalePartials(now - std::chrono::hours(6)), 1);
  EXPECT_FALSE(std::filesystem::exists(stale));
  EXPECT_TRUE(std::filesystem::exists(fresh)) << "a write may still be under way";
  EXPECT_TRUE(std::filesystem::exists(*blobs.PathFor(id))) << "finished blobs are the sweeper's, not this";
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
