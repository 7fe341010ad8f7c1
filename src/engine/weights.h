#pragma once
// Named model weights loaded from official checkpoint files: a single safetensors file, a
// sharded set described by `*.safetensors.index.json`, a torch.save `.pth` checkpoint, or a
// directory holding one of them. Tensors view the memory-mapped files where the stored dtype is
// the one asked for, so loading does not hold a second copy of the weights.
#include <ATen/ATen.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"

namespace wanserve::engine {

// Asked of a checkpoint reader: keep every floating tensor in the dtype it is stored in, a view
// of the mapped file; the model then converts each tensor it reads to its own placement.
inline constexpr at::ScalarType kStoredDtype = at::ScalarType::Undefined;

class Weights {
 public:
  Weights() = default;
  explicit Weights(std::map<std::string, at::Tensor> tensors) : tensors_(std::move(tensors)) {}

  // Floating tensors come out as `dtype` (or as stored, with kStoredDtype). A prefix shared by every key and known from the
  // official exports ("model.diffusion_model.", "diffusion_model.", "model.") is stripped.
  static Result<Weights> Load(const std::string& path, at::ScalarType dtype = at::kFloat);
  // Weights made up on request: every tensor a model asks for is drawn from `seed` and its name
  // (scaled so activations stay in range), so a model is reproducible without any file. For the
  // tiny preset and benchmarks.
  static Weights Random(uint64_t seed);
  // The same drawn on `device` with its own generator, and not kept: fast for the large
  // presets' benchmarks, but the numbers depend on the device (Generated() stays empty).
  static Weights RandomOn(uint64_t seed, at::Device device);
  // The tensors Random weights have made so far, by name.
  std::map<std::string, at::Tensor> Generated() const { return generated_ ? *generated_ : std::map<std::string, at::Tensor>{}; }

  bool Has(const std::string& name) const { return tensors_.count(name) > 0; }
  const std::map<std::string, at::Tensor>& tensors() const { return tensors_; }
  size_t bytes() const;

 private:
  friend class WeightReader;
  std::map<std::string, at::Tensor> tensors_;
  std::optional<uint64_t> random_seed_;
  at::Device random_device_ = at::kCPU;
  std::shared_ptr<std::map<std::string, at::Tensor>> generated_;
};

// Where a model's tensors live and the dtype its matrix products run in. The defaults (CPU,
// float32) are the reference numerics; bfloat16 mirrors the official GPU inference, where
// matrix products run under bf16 autocast and norms, embeddings of time and the head stay in
// float32.
struct Placement {
  at::Device device = at::kCPU;
  at::ScalarType compute = at::kFloat;
};

// Fetches tensors for a model under construction, checking each shape. The first problem
// (a missing tensor, a wrong shape) is kept and reported by status(), naming the tensor, so a
// constructor reads all its weights and checks once.
class WeightReader {
 public:
  explicit WeightReader(const Weights& weights, Placement placement = {}, std::string prefix = {})
      : weights_(weights), placement_(placement), prefix_(std::move(prefix)) {}
  WeightReader Scope(const std::string& name) const;
  // A tensor on the placement's device in float32 (norms, biases of float32 layers, embeddings).
  at::Tensor operator()(const std::string& name, std::vector<int64_t> shape);
  // A tensor on the placement's device in its compute dtype (the weights of matrix products).
  at::Tensor Compute(const std::string& name, std::vector<int64_t> shape);
  Status status() const;

 private:
  at::Tensor Read(const std::string& name, std::vector<int64_t> shape);

  const Weights& weights_;
  Placement placement_;
  std::string prefix_;
  std::shared_ptr<Error> first_error_ = std::make_shared<Error>();
  std::shared_ptr<bool> failed_ = std::make_shared<bool>(false);
};

}  // namespace wanserve::engine
