// Checkpoint files as an operator might be handed them: the first byte picks the reader (even:
// safetensors, odd: a torch.save zip), the rest is the file. Reading must answer an error or
// tensors that lie inside the file; never crash, read outside the mapping or let an exception out.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "engine/pth.h"
#include "engine/safetensors.h"
#include "engine/weights.h"

namespace {

// Touches every element: a tensor viewing memory outside its file would fault under ASan.
void ReadAll(const at::Tensor& tensor) {
  if (tensor.numel() > 0 && tensor.numel() < (1 << 20)) (void)tensor.to(at::kDouble).sum().item<double>();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace wanserve::engine;
  if (size == 0) return 0;
  static const std::string path = "/dev/shm/wanserve-fuzz-weights-" + std::to_string(::getpid());
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) std::abort();
  std::fwrite(data + 1, 1, size - 1, f);
  std::fclose(f);
  if (data[0] & 1) {
    // As stored (views of the mapping) and converted to float32 (a copy of every element).
    for (const at::ScalarType dtype : {kStoredDtype, at::kFloat}) {
      auto tensors = ReadTorchCheckpoint(path, dtype);
      if (!tensors.ok()) break;
      for (const auto& entry : *tensors) ReadAll(entry.second);
    }
  } else if (auto file = SafetensorsFile::Open(path); file.ok()) {
    for (const auto& entry : (*file)->entries()) {
      auto tensor = (*file)->Read(entry.first);
      if (tensor.ok()) ReadAll(*tensor);
    }
  }
  std::remove(path.c_str());
  return 0;
}
