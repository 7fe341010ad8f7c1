extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
}

#include <fmt/format.h>

#include <algorithm>
#include <memory>

#include "media/encode.h"
#include "media/ffmpeg_util.h"

namespace wanserve::media {
namespace {

struct FormatCloser {
  void operator()(AVFormatContext* oc) const {
    if (!oc) return;
    if (!(oc->oformat->flags & AVFMT_NOFILE) && oc->pb) avio_closep(&oc->pb);
    avformat_free_context(oc);
  }
};
struct SwsFree {
  void operator()(SwsContext* s) const { sws_freeContext(s); }
};

Error AvError(const std::string& what, int err) {
  return MakeError(ErrorCode::kInternal, fmt::format("ffmpeg {}: {}", what, AvErrorText(err)));
}

// Sends one frame (or nullptr to flush) and writes every packet the encoder returns.
Status EncodeAndWrite(AVFormatContext* oc, AVCodecContext* enc, AVStream* st, AVFrame* frame,
                      AVPacket* pkt) {
  int rc = avcodec_send_frame(enc, frame);
  if (rc < 0) return AvError("send frame", rc);
  for (;;) {
    rc = avcodec_receive_packet(enc, pkt);
    if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return Status::Ok();
    if (rc < 0) return AvError("receive packet", rc);
    // Without a duration the muxer cannot know how long the last frame lasts and the MP4
    // ends one frame short; each video packet lasts one frame.
    if (pkt->duration == 0 && enc->codec_type == AVMEDIA_TYPE_VIDEO) pkt->duration = 1;
    av_packet_rescale_ts(pkt, enc->time_base, st->time_base);
    pkt->stream_index = st->index;
    rc = av_interleaved_write_frame(oc, pkt);
    if (rc < 0) return AvError("write packet", rc);
  }
}

}  // namespace

Status EncodeMp4(const core::VideoClip& clip, const std::string& path) {
  // Encoder chatter (x264's statistics) is not ours to print; real errors come back as values.
  av_log_set_level(AV_LOG_ERROR);
  if (clip.frames.empty()) return MakeError(ErrorCode::kInternal, "video has no frames");
  const int width = clip.frames[0].width;
  const int height = clip.frames[0].height;
  if (width % 2 || height % 2 || width <= 0 || height <= 0 || clip.fps <= 0) {
    return MakeError(ErrorCode::kInternal,
                     fmt::format("cannot encode {}x{} at {} fps as yuv420p", width, height, clip.fps));
  }
  AVFormatContext* raw_oc = nullptr;
  int rc = avformat_alloc_output_context2(&raw_oc, nullptr, "mp4", path.c_str());
  if (rc < 0) return AvError("output context", rc);
  std::unique_ptr<AVFormatContext, FormatCloser> oc(raw_oc);

  const AVCodec* vcodec = avcodec_find_encoder_by_name("libx264");
  if (!vcodec) vcodec = avcodec_find_encoder(AV_CODEC_ID_H264);
  if (!vcodec) return MakeError(ErrorCode::kInternal, "no H.264 encoder in this FFmpeg build");
  std::unique_ptr<AVCodecContext, CodecFree> venc(avcodec_alloc_context3(vcodec));
  venc->width = width;
  venc->height = height;
  venc->time_base = AVRational{1, clip.fps};
  venc->framerate = AVRational{clip.fps, 1};
  venc->pix_fmt = AV_PIX_FMT_YUV420P;
  venc->gop_size = clip.fps * 2;
  // Tagged as converted: swscale's default matrix (BT.601) into limited range, from sRGB
  // pixels (BT.709 primaries and, near enough, transfer). Players then show the colours made.
  venc->color_primaries = AVCOL_PRI_BT709;
  venc->color_trc = AVCOL_TRC_BT709;
  venc->colorspace = AVCOL_SPC_SMPTE170M;
  venc->color_range = AVCOL_RANGE_MPEG;
  venc->thread_count = 0;
  if (oc->oformat->flags & AVFMT_GLOBALHEADER) venc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  av_opt_set(venc->priv_data, "preset", "veryfast", 0);
  av_opt_set(venc->priv_data, "crf", "20", 0);
  if ((rc = avcodec_open2(venc.get(), vcodec, nullptr)) < 0) return AvError("open H.264", rc);
  AVStream* vst = avformat_new_stream(oc.get(), nullptr);
  vst->time_base = venc->time_base;
  avcodec_parameters_from_context(vst->codecpar, venc.get());

  std::unique_ptr<AVCodecContext, CodecFree> aenc;
  AVStream* ast = nullptr;
  if (!clip.audio.empty()) {
    const AVCodec* acodec = avcodec_find_encoder(AV_CODEC_ID_AAC);
    if (!acodec) return MakeError(ErrorCode::kInternal, "no AAC encoder in this FFmpeg build");
    aenc.reset(avcodec_alloc_context3(acodec));
    aenc->sample_fmt = AV_SAMPLE_FMT_FLTP;
    aenc->sample_rate = clip.sample_rate;
    aenc->bit_rate = 128000;
    av_channel_layout_default(&aenc->ch_layout, 1);
    aenc->time_base = AVRational{1, clip.sample_rate};
    if (oc->oformat->flags & AVFMT_GLOBALHEADER) aenc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    if ((rc = avcodec_open2(aenc.get(), acodec, nullptr)) < 0) return AvError("open AAC", rc);
    ast = avformat_new_stream(oc.get(), nullptr);
    ast->time_base = aenc->time_base;
    avcodec_parameters_from_context(ast->codecpar, aenc.get());
  }

  if ((rc = avio_open(&oc->pb, path.c_str(), AVIO_FLAG_WRITE)) < 0) return AvError("open " + path, rc);
  // The index (moov) goes first once the file is complete, so a player starts before the
  // download ends; the colour tags go into the container too.
  AVDictionary* muxer_options = nullptr;
  av_dict_set(&muxer_options, "movflags", "+faststart+write_colr", 0);
  rc = avformat_write_header(oc.get(), &muxer_options);
  av_dict_free(&muxer_options);
  if (rc < 0) return AvError("write header", rc);

  std::unique_ptr<AVPacket, PacketFree> pkt(av_packet_alloc());
  std::unique_ptr<AVFrame, FrameFree> frame(av_frame_alloc());
  frame->format = AV_PIX_FMT_YUV420P;
  frame->width = width;
  frame->height = height;
  if ((rc = av_frame_get_buffer(frame.get(), 0)) < 0) return AvError("frame buffer", rc);
  std::unique_ptr<SwsContext, SwsFree> sws(sws_getContext(width, height, AV_PIX_FMT_RGB24, width,
                                                          height, AV_PIX_FMT_YUV420P, SWS_BILINEAR,
                                                          nullptr, nullptr, nullptr));
  if (!sws) return MakeError(ErrorCode::kInternal, "ffmpeg: cannot create scaler");

  for (size_t i = 0; i < clip.frames.size(); ++i) {
    const auto& img = clip.frames[i];
    if (img.width != width || img.height != height ||
        img.rgb.size() != static_cast<size_t>(width) * height * 3) {
      return MakeError(ErrorCode::kInternal, fmt::format("frame {} has the wrong size", i));
    }
    if ((rc = av_frame_make_writable(frame.get())) < 0) return AvError("frame writable", rc);
    const uint8_t* src[1] = {img.rgb.data()};
    const int stride[1] = {width * 3};
    sws_scale(sws.get(), src, stride, 0, height, frame->data, frame->linesize);
    frame->pts = static_cast<int64_t>(i);
    RETURN_IF_ERROR(EncodeAndWrite(oc.get(), venc.get(), vst, frame.get(), pkt.get()));
  }
  RETURN_IF_ERROR(EncodeAndWrite(oc.get(), venc.get(), vst, nullptr, pkt.get()));

  if (aenc) {
    std::unique_ptr<AVFrame, FrameFree> af(av_frame_alloc());
    const int chunk = aenc->frame_size > 0 ? aenc->frame_size : 1024;
    for (size_t pos = 0; pos < clip.audio.size(); pos += static_cast<size_t>(chunk)) {
      const int n = static_cast<int>(std::min<size_t>(chunk, clip.audio.size() - pos));
      af->format = AV_SAMPLE_FMT_FLTP;
      af->sample_rate = aenc->sample_rate;
      af->nb_samples = n;
      av_channel_layout_copy(&af->ch_layout, &aenc->ch_layout);
      if ((rc = av_frame_get_buffer(af.get(), 0)) < 0) return AvError("audio buffer", rc);
      std::copy_n(clip.audio.data() + pos, n, reinterpret_cast<float*>(af->data[0]));
      af->pts = static_cast<int64_t>(pos);
      RETURN_IF_ERROR(EncodeAndWrite(oc.get(), aenc.get(), ast, af.get(), pkt.get()));
      av_frame_unref(af.get());
    }
    RETURN_IF_ERROR(EncodeAndWrite(oc.get(), aenc.get(), ast, nullptr, pkt.get()));
  }
  if ((rc = av_write_trailer(oc.get())) < 0) return AvError("write trailer", rc);
  return Status::Ok();
}

}  // namespace wanserve::media
