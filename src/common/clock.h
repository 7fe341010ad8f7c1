#pragma once
// Time comes in through a Clock so that tests can control it; nothing calls now() directly.
#include <cstdint>
#include <memory>

namespace wanserve {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch.
  virtual int64_t NowMs() const = 0;
};

class SystemClock final : public Clock {
 public:
  int64_t NowMs() const override;
};

std::shared_ptr<Clock> MakeSystemClock();

}  // namespace wanserve
