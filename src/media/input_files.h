#pragma once
// What is known of a task's input files once they are downloaded and probed: plain values,
// so providers can take them without the fetcher's network and store dependencies.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace wanserve::media {

struct MediaInfo {
  std::string container;  // "mov,mp4,m4a,3gp,3g2,mj2", "png", ...
  std::string video_codec;
  int width = 0;
  int height = 0;
  int frames = 0;          // decoded frames (1 for images)
  double duration_s = 0;
  double fps = 0;
  bool has_audio = false;
  std::string audio_codec;
};

struct InputFile {
  std::string label;  // "image 2", "video", "audio 1": how messages name it
  std::filesystem::path path;
  MediaInfo info;
};

struct PreparedInputs {
  std::vector<InputFile> images;     // references
  std::optional<InputFile> video;    // the video to edit or the clip to continue
  std::vector<InputFile> audio;      // driving audio
  std::optional<InputFile> first_frame, last_frame;
  std::vector<InputFile> reference_videos;
  std::vector<InputFile> voices;     // in the order of the request's voice bindings
};

}  // namespace wanserve::media
