// engine.h's CheckPlacementNames: torch-free, so the server checks its configuration at start-up,
// and compiled into the engine module too, whose ResolvePlacement starts from the same names.
#include "engine/engine.h"

namespace wanserve::engine {

Status CheckPlacementNames(const std::string& device, const std::string& precision) {
  const bool cuda_index = device.starts_with("cuda:") && device.size() > 5 &&
                          device.find_first_not_of("0123456789", 5) == std::string::npos;
  if (device != "auto" && device != "cpu" && device != "cuda" && !cuda_index) {
    return MakeError(ErrorCode::kInvalidInput, "device: " + device + " is not auto, cpu, cuda or cuda:N", "device");
  }
  if (precision != "auto" && precision != "float32" && precision != "bf16") {
    return MakeError(ErrorCode::kInvalidInput, "precision: " + precision + " is not auto, float32 or bf16",
                     "precision");
  }
  return Status::Ok();
}

}  // namespace wanserve::engine
