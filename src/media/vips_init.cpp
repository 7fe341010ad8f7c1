#include "media/vips_init.h"

#include <vips/vips.h>

#include <mutex>
#include <stdexcept>

namespace wanserve::media {

void EnsureVipsStarted() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (VIPS_INIT("wanserve") != 0) throw std::runtime_error("libvips failed to start");
    // Output images are written once; caching operations only costs memory here.
    vips_cache_set_max(0);
  });
}

}  // namespace wanserve::media
