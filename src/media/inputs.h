#pragma once
// Input media of a task (reference images, the video to edit, driving audio): downloaded
// through the guarded OutboundClient with hard size caps while streaming, or read straight from
// the blob store when the URL is one of our own signed upload links; then probed with the same
// decoders a client would use and validated against the seeds' rules. A violation is an error
// with a precise detail code, e.g. image_too_small: "image 2 is 300x300, minimum 384x384".
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/error.h"
#include "core/request.h"
#include "media/blob_store.h"
#include "media/input_files.h"
#include "media/probe.h"
#include "media/url_signer.h"
#include "net/outbound_client.h"

namespace wanserve::media {

struct InputLimits {
  int64_t max_image_bytes = 20 << 20;   // Default: 20 MB (seed)
  int64_t max_video_bytes = 100 << 20;  // Default: 100 MB (seed)
  int64_t max_audio_bytes = 15 << 20;   // Default: 15 MB (seed)
  int image_min_side = 240;             // Default when the request names none
  int image_max_side = 8000;
  double video_min_s = 2, video_max_s = 10;
  int video_min_side = 240, video_max_side = 4096;
  double video_max_ratio = 8;           // 1:8 to 8:1
  double audio_min_s = 2, audio_max_s = 30;
  double reference_video_min_s = 1, reference_video_max_s = 30;  // reference to video
  double voice_min_s = 1, voice_max_s = 10;                       // its voice samples
  int64_t connect_timeout_ms = 10'000;  // Default: 10 s
  int64_t timeout_ms = 120'000;         // Default: 2 min per file
};

// A blob behind one of our own links.
struct OwnBlob {
  const BlobStore* store = nullptr;
  std::string key;
  int64_t bytes = 0;
};

// Recognises links this server signed (POST /v1/files uploads, earlier outputs).
class OwnLinks {
 public:
  // stores: where signed blobs may live (outputs, uploads), searched in order.
  OwnLinks(std::vector<const BlobStore*> stores, const UrlSigner& signer, std::string public_base_url,
           std::shared_ptr<Clock> clock)
      : stores_(std::move(stores)), signer_(signer), base_(std::move(public_base_url)), clock_(std::move(clock)) {}
  void SetBaseUrl(std::string base) { base_ = std::move(base); }
  // Maps the id of an uploaded file to its blob while the file lives; kNotFound after.
  using FileLookup = std::function<Result<std::string>(const std::string& file_id)>;
  // Links <base><prefix><file id> (the files APIs' download links) resolve through lookup.
  void SetFileLookup(std::string prefix, FileLookup lookup) {
    file_prefix_ = std::move(prefix);
    file_lookup_ = std::move(lookup);
  }
  // nullopt when url is not under <base>/files/ or the file prefix; else the blob, or
  // kForbidden when the signature is wrong or expired, kNotFound when the file is gone.
  std::optional<Result<OwnBlob>> Resolve(const std::string& url) const;

 private:
  std::vector<const BlobStore*> stores_;
  const UrlSigner& signer_;
  std::string base_;
  std::shared_ptr<Clock> clock_;
  std::string file_prefix_;
  FileLookup file_lookup_;

  Result<OwnBlob> Find(const std::string& blob_id) const;
};

class InputFetcher {
 public:
  InputFetcher(net::OutboundClient& client, const OwnLinks& own, std::filesystem::path scratch_root,
               InputLimits limits = {});

  // Validates every input of the request: downloads go to <scratch_root>/<task_id>/, files
  // behind our own links are probed where they lie when the store is a local folder, else
  // copied there from the store.
  Result<PreparedInputs> Prepare(const std::string& task_id, const core::GenerationRequest& request) const;
  // Removes what Prepare left for the task.
  void Cleanup(const std::string& task_id) const;
  // Removes the input folders a crash left behind: those last changed before cutoff whose task
  // `finished` says is over (or unknown). Returns how many.
  int SweepLeftovers(std::filesystem::file_time_type cutoff,
                     const std::function<bool(const std::string& task_id)>& finished) const;

 private:
  // kind ("image", "video", "audio") names the detail code of a failed download, e.g.
  // image_unreachable.
  Result<InputFile> Fetch(const std::string& url, std::string_view kind, const std::string& label, int64_t max_bytes,
                          const std::filesystem::path& dest) const;
  Status CheckImage(InputFile& file, int min_side) const;
  Status CheckVideo(InputFile& file, double min_s, double max_s) const;
  Status CheckAudio(InputFile& file, double min_s, double max_s) const;

  net::OutboundClient& client_;
  const OwnLinks& own_;
  std::filesystem::path scratch_root_;
  InputLimits limits_;
};

// The request as it will run once its inputs are known: a video edit that keeps the input's
// duration (0) gets the probed one (at most max_seconds), and one that keeps the input's aspect
// ratio gets an output of the same area in the input's ratio.
core::GenerationRequest ApplyInputs(core::GenerationRequest request, const PreparedInputs& inputs,
                                    double max_seconds = 10);

}  // namespace wanserve::media
