#pragma once
// The flow-matching samplers of the Wan generate pipelines: UniPC multistep (bh2, predict x0,
// the official default) and DPM-Solver++ (midpoint), both second order with lower-order final
// steps. Scalar coefficients are computed in float32 as the reference does, so trajectories
// match it step for step.
#include <ATen/ATen.h>

#include <memory>
#include <string>
#include <vector>

#include "common/error.h"

namespace wanserve::engine {

enum class SamplerKind { kUniPC, kDpmPlusPlus };

Result<SamplerKind> ParseSamplerKind(const std::string& name);  // "unipc", "dpm++"

class FlowSampler {
 public:
  virtual ~FlowSampler() = default;
  // The integer timesteps the model is called with, one per step.
  const std::vector<int64_t>& timesteps() const { return timesteps_; }
  // Sigmas, one more than the steps, ending in 0.
  const std::vector<float>& sigmas() const { return sigmas_; }
  // One step: the model's flow prediction at the current sample → the next sample.
  virtual at::Tensor Step(const at::Tensor& model_output, const at::Tensor& sample) = 0;
  // Starts at step `index` of the schedule with an empty history (the scheduler's
  // set_begin_index, as SDEdit uses it): the first step taken is first order, and the last
  // ones drop order as the full schedule's would.
  void SetBeginIndex(size_t index) { step_ = index; }
  size_t begin_index() const { return step_; }

 protected:
  std::vector<int64_t> timesteps_;
  std::vector<float> sigmas_;
  size_t step_ = 0;
};

// num_train_timesteps 1000 and a shift applied to the schedule, as the pipelines build them.
std::unique_ptr<FlowSampler> MakeSampler(SamplerKind kind, int steps, double shift);

// The step SDEdit starts at for `strength` of an N-step schedule (diffusers' get_timesteps):
// N - min(int(N * strength), N), the product in double precision and truncated.
int SdeditBeginIndex(int steps, double strength);

}  // namespace wanserve::engine
