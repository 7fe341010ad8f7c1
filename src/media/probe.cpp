extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
}
#include <vips/vips.h>

#include <fmt/format.h>

#include <memory>

#include "media/ffmpeg_util.h"
#include "media/probe.h"
#include "media/vips_init.h"

namespace wanserve::media {
namespace {

struct InputCloser {
  void operator()(AVFormatContext* ic) const { avformat_close_input(&ic); }
};

Error Corrupt(const std::string& what, int err) {
  return MakeError(ErrorCode::kInvalidInput, fmt::format("{}: {}", what, AvErrorText(err)));
}

}  // namespace

Result<MediaInfo> ProbeVideoFile(const std::string& path) {
  AVFormatContext* raw = nullptr;
  int rc = avformat_open_input(&raw, path.c_str(), nullptr, nullptr);
  if (rc < 0) return Corrupt("cannot open media", rc);
  std::unique_ptr<AVFormatContext, InputCloser> ic(raw);
  if ((rc = avformat_find_stream_info(ic.get(), nullptr)) < 0) return Corrupt("cannot read streams", rc);

  MediaInfo info;
  info.container = ic->iformat->name;
  const int vindex = av_find_best_stream(ic.get(), AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  const int aindex = av_find_best_stream(ic.get(), AVMEDIA_TYPE_AUDIO, -1, -1, nullptr, 0);
  if (aindex >= 0) {
    info.has_audio = true;
    info.audio_codec = avcodec_get_name(ic->streams[aindex]->codecpar->codec_id);
  }
  if (ic->duration > 0) info.duration_s = static_cast<double>(ic->duration) / AV_TIME_BASE;
  if (vindex < 0) return info;

  AVStream* st = ic->streams[vindex];
  const AVCodec* codec = avcodec_find_decoder(st->codecpar->codec_id);
  if (!codec) return MakeError(ErrorCode::kInvalidInput, "no decoder for the video stream");
  std::unique_ptr<AVCodecContext, CodecFree> dec(avcodec_alloc_context3(codec));
  avcodec_parameters_to_context(dec.get(), st->codecpar);
  if ((rc = avcodec_open2(dec.get(), codec, nullptr)) < 0) return Corrupt("cannot open decoder", rc);
  info.video_codec = codec->name;
  info.width = st->codecpar->width;
  info.height = st->codecpar->height;
  if (st->avg_frame_rate.num > 0) info.fps = av_q2d(st->avg_frame_rate);
  if (st->duration > 0) info.duration_s = static_cast<double>(st->duration) * av_q2d(st->time_base);

  std::unique_ptr<AVPacket, PacketFree> pkt(av_packet_alloc());
  std::unique_ptr<AVFrame, FrameFree> frame(av_frame_alloc());
  auto drain = [&]() -> Status {
    for (;;) {
      int r = avcodec_receive_frame(dec.get(), frame.get());
      if (r == AVERROR(EAGAIN) || r == AVERROR_EOF) return Status::Ok();
      if (r < 0) return Corrupt("video does not decode", r);
      ++info.frames;
      av_frame_unref(frame.get());
    }
  };
  while ((rc = av_read_frame(ic.get(), pkt.get())) >= 0) {
    if (pkt->stream_index == vindex) {
      int s = avcodec_send_packet(dec.get(), pkt.get());
      av_packet_unref(pkt.get());
      if (s < 0) return Corrupt("video does not decode", s);
      RETURN_IF_ERROR(drain());
    } else {
      av_packet_unref(pkt.get());
    }
  }
  if (rc != AVERROR_EOF) return Corrupt("video is truncated", rc);
  avcodec_send_packet(dec.get(), nullptr);
  RETURN_IF_ERROR(drain());
  if (info.frames == 0) return MakeError(ErrorCode::kInvalidInput, "video has no decodable frames");
  return info;
}

Result<MediaInfo> ProbeImageFile(const std::string& path) {
  EnsureVipsStarted();
  // Loaders only warn about a truncated file by default; an input that is cut short must fail.
  VipsImage* img = vips_image_new_from_file(path.c_str(), "access", VIPS_ACCESS_SEQUENTIAL, "fail_on",
                                            VIPS_FAIL_ON_TRUNCATED, nullptr);
  if (!img) {
    std::string err = vips_error_buffer();
    vips_error_clear();
    return MakeError(ErrorCode::kInvalidInput, "image does not decode: " + err);
  }
  MediaInfo info;
  const char* loader = nullptr;
  if (vips_image_get_string(img, "vips-loader", &loader) == 0 && loader) info.container = loader;
  info.width = vips_image_get_width(img);
  info.height = vips_image_get_height(img);
  info.frames = 1;
  // Computing the mean forces every pixel to be decoded, so a truncated file is caught here.
  double mean = 0;
  int rc = vips_avg(img, &mean, nullptr);
  g_object_unref(img);
  if (rc != 0) {
    std::string err = vips_error_buffer();
    vips_error_clear();
    return MakeError(ErrorCode::kInvalidInput, "image does not decode: " + err);
  }
  return info;
}

}  // namespace wanserve::media
