extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/opt.h>
#include <libswresample/swresample.h>
#include <libswscale/swscale.h>
}
#include <vips/vips.h>

#include <fmt/format.h>

#include <cmath>
#include <memory>
#include <optional>

#include "media/decode.h"
#include "media/ffmpeg_util.h"
#include "media/vips_init.h"

namespace wanserve::media {
namespace {

struct InputCloser {
  void operator()(AVFormatContext* ic) const { avformat_close_input(&ic); }
};
struct SwsFree {
  void operator()(SwsContext* s) const { sws_freeContext(s); }
};
struct SwrFree {
  void operator()(SwrContext* s) const { swr_free(&s); }
};

Error Undecodable(const std::string& what, int err) {
  return MakeError(ErrorCode::kInvalidInput, fmt::format("{}: {}", what, AvErrorText(err)));
}

Result<std::unique_ptr<AVCodecContext, CodecFree>> OpenDecoder(AVStream* stream) {
  const AVCodec* codec = avcodec_find_decoder(stream->codecpar->codec_id);
  if (!codec) return MakeError(ErrorCode::kInvalidInput, "no decoder for the stream");
  std::unique_ptr<AVCodecContext, CodecFree> dec(avcodec_alloc_context3(codec));
  avcodec_parameters_to_context(dec.get(), stream->codecpar);
  if (int rc = avcodec_open2(dec.get(), codec, nullptr); rc < 0) return Undecodable("cannot open decoder", rc);
  return dec;
}

// Frames to RGB at the output size, and the instants of the output frame rate they fill.
class FrameSink {
 public:
  FrameSink(const DecodeVideoOptions& options, int64_t max_frames) : options_(options), max_frames_(max_frames) {}

  bool full() const { return static_cast<int64_t>(clip_.frames.size()) >= max_frames_; }

  // A decoded frame shown from `seconds` on: the output instants before it take the previous one.
  Status Add(const AVFrame& frame, double seconds) {
    if (pending_) FillUntil(seconds);
    ASSIGN_OR_RETURN(pending_, ToRgb(frame));
    return Status::Ok();
  }

  // At the end: the last frame fills the instants up to `end_seconds`.
  core::VideoClip Finish(double end_seconds) {
    if (pending_) FillUntil(end_seconds);
    clip_.fps = options_.fps;
    return std::move(clip_);
  }

 private:
  void FillUntil(double seconds) {
    while (!full() && static_cast<double>(clip_.frames.size()) / options_.fps < seconds - 1e-6) {
      clip_.frames.push_back(*pending_);
    }
  }

  Result<core::RgbImage> ToRgb(const AVFrame& frame) {
    int w = frame.width, h = frame.height;
    if (options_.cover_width > 0 && options_.cover_height > 0) {
      const double scale = std::max(static_cast<double>(options_.cover_width) / w,
                                    static_cast<double>(options_.cover_height) / h);
      w = std::max(options_.cover_width, static_cast<int>(std::lround(w * scale)));
      h = std::max(options_.cover_height, static_cast<int>(std::lround(h * scale)));
    }
    sws_.reset(sws_getCachedContext(sws_.release(), frame.width, frame.height, static_cast<AVPixelFormat>(frame.format),
                                    w, h, AV_PIX_FMT_RGB24, SWS_LANCZOS | SWS_ACCURATE_RND, nullptr, nullptr, nullptr));
    if (!sws_) return MakeError(ErrorCode::kInvalidInput, "video frames cannot be converted to RGB");
    core::RgbImage image{w, h, std::vector<uint8_t>(static_cast<size_t>(w) * h * 3)};
    uint8_t* dst[1] = {image.rgb.data()};
    const int stride[1] = {w * 3};
    sws_scale(sws_.get(), frame.data, frame.linesize, 0, frame.height, dst, stride);
    return image;
  }

  DecodeVideoOptions options_;
  int64_t max_frames_;
  core::VideoClip clip_;
  std::optional<core::RgbImage> pending_;
  std::unique_ptr<SwsContext, SwsFree> sws_;
};

// The first audio stream as mono float samples at `rate`, at most `max_samples`.
class AudioSink {
 public:
  AudioSink(int rate, int64_t max_samples) : rate_(rate), max_samples_(max_samples) {}

  Status Add(const AVFrame& frame) {
    if (!swr_) {
      AVChannelLayout mono, in;
      av_channel_layout_default(&mono, 1);
      if (av_channel_layout_copy(&in, &frame.ch_layout) < 0) return MakeError(ErrorCode::kInvalidInput, "audio layout");
      SwrContext* raw = nullptr;
      const bool made = swr_alloc_set_opts2(&raw, &mono, AV_SAMPLE_FMT_FLT, rate_, &in,
                                            static_cast<AVSampleFormat>(frame.format), frame.sample_rate, 0,
                                            nullptr) >= 0 &&
                        swr_init(raw) >= 0;
      av_channel_layout_uninit(&in);
      if (!made) {
        swr_free(&raw);
        return MakeError(ErrorCode::kInvalidInput, "audio cannot be converted");
      }
      swr_.reset(raw);
    }
    const int capacity = swr_get_out_samples(swr_.get(), frame.nb_samples);
    std::vector<float> out(static_cast<size_t>(std::max(capacity, 0)));
    uint8_t* dst[1] = {reinterpret_cast<uint8_t*>(out.data())};
    const int n = swr_convert(swr_.get(), dst, capacity, const_cast<const uint8_t**>(frame.extended_data), frame.nb_samples);
    if (n < 0) return MakeError(ErrorCode::kInvalidInput, "audio does not decode");
    const auto take = static_cast<size_t>(std::min<int64_t>(n, max_samples_ - static_cast<int64_t>(samples_.size())));
    samples_.insert(samples_.end(), out.begin(), out.begin() + static_cast<std::ptrdiff_t>(take));
    return Status::Ok();
  }

  std::vector<float> Take() { return std::move(samples_); }

 private:
  int rate_;
  int64_t max_samples_;
  std::unique_ptr<SwrContext, SwrFree> swr_;
  std::vector<float> samples_;
};

// Sends a packet (null: flush) and hands every frame it yields to `take`.
template <typename Take>
Status DecodePacket(AVCodecContext* dec, const AVPacket* packet, AVFrame* frame, const char* what, Take take) {
  if (int rc = avcodec_send_packet(dec, packet); rc < 0 && rc != AVERROR_EOF) return Undecodable(what, rc);
  for (;;) {
    const int rc = avcodec_receive_frame(dec, frame);
    if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return Status::Ok();
    if (rc < 0) return Undecodable(what, rc);
    Status taken = take(*frame);
    av_frame_unref(frame);
    RETURN_IF_ERROR(taken);
  }
}

}  // namespace

Result<core::VideoClip> DecodeVideo(const std::string& path, const DecodeVideoOptions& options) {
  if (options.fps <= 0) return MakeError(ErrorCode::kInvalidInput, "fps must be positive");
  AVFormatContext* raw = nullptr;
  if (int rc = avformat_open_input(&raw, path.c_str(), nullptr, nullptr); rc < 0) {
    return Undecodable("cannot open video", rc);
  }
  std::unique_ptr<AVFormatContext, InputCloser> ic(raw);
  if (int rc = avformat_find_stream_info(ic.get(), nullptr); rc < 0) return Undecodable("cannot read streams", rc);
  const int vindex = av_find_best_stream(ic.get(), AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  if (vindex < 0) return MakeError(ErrorCode::kInvalidInput, "no video stream");
  AVStream* vstream = ic->streams[vindex];
  ASSIGN_OR_RETURN(auto vdec, OpenDecoder(vstream));
  const int aindex = options.audio ? av_find_best_stream(ic.get(), AVMEDIA_TYPE_AUDIO, -1, vindex, nullptr, 0) : -1;
  std::unique_ptr<AVCodecContext, CodecFree> adec;
  if (aindex >= 0) {
    auto opened = OpenDecoder(ic->streams[aindex]);
    if (opened.ok()) adec = std::move(*opened);
  }

  const double max_seconds = options.max_seconds > 0 ? options.max_seconds : 1e9;
  const int64_t max_frames = static_cast<int64_t>(std::llround(std::min(max_seconds, 1e6) * options.fps));
  FrameSink frames(options, std::max<int64_t>(max_frames, 1));
  core::VideoClip clip;
  AudioSink audio(clip.sample_rate, static_cast<int64_t>(std::min(max_seconds, 1e6) * clip.sample_rate));
  const double time_base = av_q2d(vstream->time_base);
  const int64_t start = vstream->start_time != AV_NOPTS_VALUE ? vstream->start_time : 0;
  double last_shown = 0, frame_span = 1.0 / options.fps;
  auto on_video = [&](const AVFrame& f) -> Status {
    const int64_t pts = f.best_effort_timestamp != AV_NOPTS_VALUE ? f.best_effort_timestamp : start;
    const double seconds = static_cast<double>(pts - start) * time_base;
    if (f.pkt_duration > 0) frame_span = static_cast<double>(f.pkt_duration) * time_base;
    last_shown = std::max(last_shown, seconds);
    return frames.full() ? Status::Ok() : frames.Add(f, seconds);
  };
  auto on_audio = [&](const AVFrame& f) { return audio.Add(f); };

  std::unique_ptr<AVPacket, PacketFree> packet(av_packet_alloc());
  std::unique_ptr<AVFrame, FrameFree> frame(av_frame_alloc());
  int rc = 0;
  while (!frames.full() && (rc = av_read_frame(ic.get(), packet.get())) >= 0) {
    Status st = Status::Ok();
    if (packet->stream_index == vindex) {
      st = DecodePacket(vdec.get(), packet.get(), frame.get(), "video does not decode", on_video);
    } else if (adec && packet->stream_index == aindex) {
      st = DecodePacket(adec.get(), packet.get(), frame.get(), "audio does not decode", on_audio);
    }
    av_packet_unref(packet.get());
    RETURN_IF_ERROR(st);
  }
  if (rc < 0 && rc != AVERROR_EOF) return Undecodable("video is truncated", rc);
  if (!frames.full()) RETURN_IF_ERROR(DecodePacket(vdec.get(), nullptr, frame.get(), "video does not decode", on_video));
  if (adec) RETURN_IF_ERROR(DecodePacket(adec.get(), nullptr, frame.get(), "audio does not decode", on_audio));
  core::VideoClip decoded = frames.Finish(std::min(last_shown + frame_span, max_seconds));
  if (decoded.frames.empty()) return MakeError(ErrorCode::kInvalidInput, "video has no decodable frames");
  decoded.sample_rate = clip.sample_rate;
  decoded.audio = audio.Take();
  return decoded;
}

Result<core::RgbImage> DecodeImage(const std::string& path) {
  EnsureVipsStarted();
  auto vips_error = [](const char* what) {
    std::string err = vips_error_buffer();
    vips_error_clear();
    return MakeError(ErrorCode::kInvalidInput, std::string(what) + ": " + err);
  };
  VipsImage* loaded = vips_image_new_from_file(path.c_str(), "fail_on", VIPS_FAIL_ON_TRUNCATED, nullptr);
  if (!loaded) return vips_error("image does not decode");
  std::unique_ptr<VipsImage, decltype(&g_object_unref)> image(loaded, &g_object_unref);
  // As a browser shows it: upright, in sRGB, 8 bits; alpha is dropped as PIL's convert("RGB") does.
  VipsImage* step = nullptr;
  if (vips_autorot(image.get(), &step, nullptr) != 0) return vips_error("image cannot be turned upright");
  image.reset(step);
  if (vips_colourspace(image.get(), &step, VIPS_INTERPRETATION_sRGB, nullptr) != 0) {
    return vips_error("image cannot be converted to sRGB");
  }
  image.reset(step);
  if (vips_extract_band(image.get(), &step, 0, "n", 3, nullptr) != 0) return vips_error("image has no colour bands");
  image.reset(step);
  if (vips_cast_uchar(image.get(), &step, nullptr) != 0) return vips_error("image cannot be made 8-bit");
  image.reset(step);
  size_t size = 0;
  void* pixels = vips_image_write_to_memory(image.get(), &size);
  if (!pixels) return vips_error("image does not decode");
  core::RgbImage out{vips_image_get_width(image.get()), vips_image_get_height(image.get()), {}};
  out.rgb.assign(static_cast<uint8_t*>(pixels), static_cast<uint8_t*>(pixels) + size);
  g_free(pixels);
  return out;
}

}  // namespace wanserve::media
