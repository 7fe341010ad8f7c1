#pragma once

namespace wanserve::media {

// Starts libvips once per process; safe to call from any thread.
void EnsureVipsStarted();

}  // namespace wanserve::media
