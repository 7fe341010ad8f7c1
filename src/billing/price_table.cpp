#include "billing/price_table.h"

#include <cmath>

namespace wanserve::billing {
namespace {

int64_t Lookup(const std::map<std::string, int64_t>& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? 0 : it->second;
}

}  // namespace

int64_t PriceFor(const PriceTable& t, const core::GenerationRequest& r, std::optional<double> input_video_s) {
  const int64_t count = std::max(1, r.count);
  switch (r.kind) {
    case core::RequestKind::kTextToImage:
    case core::RequestKind::kImageEdit: {
      const int64_t each = Lookup(t.per_image, r.model) * (r.resolution_tier == "4K" ? t.image_4k_factor : 1);
      return each * count;
    }
    case core::RequestKind::kTextToVideo:
    case core::RequestKind::kImageToVideo: {
      const auto seconds = static_cast<int64_t>(std::ceil(r.duration_s));
      return Lookup(t.t2v_per_second, r.resolution_tier) * seconds * count;
    }
    case core::RequestKind::kReferenceToVideo: {
      const auto output = static_cast<int64_t>(std::ceil(r.duration_s));
      const int64_t input =
          input_video_s ? static_cast<int64_t>(std::ceil(*input_video_s))
                        : t.reference_video_max_seconds * static_cast<int64_t>(r.reference_video_urls.size());
      return Lookup(t.t2v_per_second, r.resolution_tier) * (output + input) * count;
    }
    case core::RequestKind::kVideoEdit: {
      // Until the input is probed, its length is taken as the longest the API accepts.
      const int64_t input =
          input_video_s ? std::min(t.edit_max_seconds, static_cast<int64_t>(std::ceil(*input_video_s)))
                        : t.edit_max_seconds;
      const int64_t output = r.duration_s > 0 ? static_cast<int64_t>(std::ceil(r.duration_s)) : input;
      return Lookup(t.edit_per_second, r.resolution_tier) * (input + output) * count;
    }
  }
  return 0;
}

}  // namespace wanserve::billing
