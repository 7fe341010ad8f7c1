#include "engine/sampler.h"

#include <algorithm>
#include <cmath>
#include <optional>

namespace wanserve::engine {
namespace {

constexpr int kTrainTimesteps = 1000;

// Point i of numpy.linspace(start, stop, intervals + 1), computed the way numpy does so the
// truncated timesteps agree at integer boundaries.
double Linspace(double start, double stop, int intervals, int i) {
  return static_cast<double>(i) * ((stop - start) / intervals) + start;
}

double Shifted(double sigma, double shift) { return shift * sigma / (1.0 + (shift - 1.0) * sigma); }

// lambda = log(alpha) - log(sigma) with alpha = 1 - sigma, in float32.
float Lambda(float sigma) { return std::log(1.0f - sigma) - std::log(sigma); }

// The first step starts at the second occurrence of its timestep when it repeats, as the
// reference's index lookup does.
size_t FirstStepIndex(const std::vector<int64_t>& timesteps) {
  size_t seen = 0;
  for (size_t i = 0; i < timesteps.size(); ++i) {
    if (timesteps[i] != timesteps[0]) continue;
    if (++seen == 2) return i;
  }
  return 0;
}

void SetSchedule(const std::vector<double>& sigmas, std::vector<int64_t>& timesteps,
                 std::vector<float>& out_sigmas) {
  for (double s : sigmas) {
    timesteps.push_back(static_cast<int64_t>(s * kTrainTimesteps));
    out_sigmas.push_back(static_cast<float>(s));
  }
  out_sigmas.push_back(0.0f);
}

class UniPCSampler final : public FlowSampler {
 public:
  UniPCSampler(int steps, double shift) {
    // The training schedule's largest sigma (1 - 1/1000 as float32), spaced down to zero.
    const double sigma_max = static_cast<double>(static_cast<float>(1.0 - 1.0 / kTrainTimesteps));
    std::vector<double> sigmas;
    for (int i = 0; i < steps; ++i) sigmas.push_back(Shifted(Linspace(sigma_max, 0.0, steps, i), shift));
    SetSchedule(sigmas, timesteps_, sigmas_);
    step_ = FirstStepIndex(timesteps_);
  }

  at::Tensor Step(const at::Tensor& model_output, const at::Tensor& sample) override {
    const at::Tensor x0 = sample - sigmas_[step_] * model_output;
    at::Tensor current = sample;
    if (step_ > 0 && last_sample_.defined()) {
      current = Correct(x0);
    }
    m_prev_ = m_last_;
    m_last_ = x0;
    const int remaining = static_cast<int>(timesteps_.size() - step_);
    order_ = std::min({2, remaining, lower_order_nums_ + 1});
    last_sample_ = current;
    at::Tensor next = Predict(current);
    lower_order_nums_ = std::min(lower_order_nums_ + 1, 2);
    ++step_;
    return next;
  }

 private:
  struct Coefficients {
    float h_phi_1;
    float b_h;
    std::vector<float> b;  // b[0], b[1] for orders 1 and 2
  };

  // hh = -h (predict x0); B(h) = expm1(hh) (bh2); b_k = h_phi_k * k! / B(h).
  static Coefficients Solve(float h, int order) {
    const float hh = -h;
    Coefficients c{std::expm1(hh), std::expm1(hh), {}};
    float h_phi_k = c.h_phi_1 / hh - 1.0f;
    float factorial = 1.0f;
    for (int i = 1; i <= order; ++i) {
      c.b.push_back(h_phi_k * factorial / c.b_h);
      factorial *= static_cast<float>(i + 1);
      h_phi_k = h_phi_k / hh - 1.0f / factorial;
    }
    return c;
  }

  at::Tensor Predict(const at::Tensor& x) const {
    const float sigma_t = sigmas_[step_ + 1];
    const float sigma_s0 = sigmas_[step_];
    const float alpha_t = 1.0f - sigma_t;
    const float lambda_s0 = Lambda(sigma_s0);
    const float h = Lambda(sigma_t) - lambda_s0;
    const Coefficients c = Solve(h, order_);
    at::Tensor x_t = (sigma_t / sigma_s0) * x - (alpha_t * c.h_phi_1) * m_last_;
    if (order_ == 2) {
      const float rk = (Lambda(sigmas_[step_ - 1]) - lambda_s0) / h;
      const at::Tensor d1 = (m_prev_ - m_last_) / rk;
      x_t = x_t - (alpha_t * c.b_h) * (0.5f * d1);
    }
    return x_t;
  }

  at::Tensor Correct(const at::Tensor& model_t) const {
    const float sigma_t = sigmas_[step_];
    const float sigma_s0 = sigmas_[step_ - 1];
    const float alpha_t = 1.0f - sigma_t;
    const float lambda_s0 = Lambda(sigma_s0);
    const float h = Lambda(sigma_t) - lambda_s0;
    const Coefficients c = Solve(h, order_);
    const at::Tensor& x = last_sample_;
    at::Tensor x_t = (sigma_t / sigma_s0) * x - (alpha_t * c.h_phi_1) * m_last_;
    const at::Tensor d1_t = model_t - m_last_;
    if (order_ == 1) return x_t - (alpha_t * c.b_h) * (0.5f * d1_t);
    // Order 2: rho solves [[1, 1], [rk, 1]] rho = b.
    const float rk = (Lambda(sigmas_[step_ - 2]) - lambda_s0) / h;
    const float det = 1.0f - rk;
    const float rho0 = (c.b[0] - c.b[1]) / det;
    const float rho1 = (c.b[1] - rk * c.b[0]) / det;
    const at::Tensor d1 = (m_prev_ - m_last_) / rk;
    return x_t - (alpha_t * c.b_h) * (rho0 * d1 + rho1 * d1_t);
  }

  at::Tensor m_last_, m_prev_, last_sample_;
  int order_ = 1;
  int lower_order_nums_ = 0;
};

class DpmPlusPlusSampler final : public FlowSampler {
 public:
  DpmPlusPlusSampler(int steps, double shift) {
    std::vector<double> sigmas;
    for (int i = 0; i < steps; ++i) sigmas.push_back(Shifted(Linspace(1.0, 0.0, steps, i), shift));
    SetSchedule(sigmas, timesteps_, sigmas_);
    step_ = FirstStepIndex(timesteps_);
  }

  at::Tensor Step(const at::Tensor& model_output, const at::Tensor& sample) override {
    m_prev_ = m_last_;
    m_last_ = sample - sigmas_[step_] * model_output;
    // The last step is first order because the final sigma is zero.
    const bool last = step_ + 1 == timesteps_.size();
    const float sigma_t = sigmas_[step_ + 1];
    const float sigma_s0 = sigmas_[step_];
    const float alpha_t = 1.0f - sigma_t;
    const float lambda_s0 = Lambda(sigma_s0);
    const float h = Lambda(sigma_t) - lambda_s0;
    const float factor = alpha_t * (std::exp(-h) - 1.0f);
    at::Tensor next = (sigma_t / sigma_s0) * sample - factor * m_last_;
    if (lower_order_nums_ >= 1 && !last) {
      const float r0 = (lambda_s0 - Lambda(sigmas_[step_ - 1])) / h;
      next = next - (0.5f * factor) * ((1.0f / r0) * (m_last_ - m_prev_));
    }
    lower_order_nums_ = std::min(lower_order_nums_ + 1, 2);
    ++step_;
    return next;
  }

 private:
  at::Tensor m_last_, m_prev_;
  int lower_order_nums_ = 0;
};

}  // namespace

Result<SamplerKind> ParseSamplerKind(const std::string& name) {
  if (name == "unipc") return SamplerKind::kUniPC;
  if (name == "dpm++" || name == "dpmpp") return SamplerKind::kDpmPlusPlus;
  return MakeError(ErrorCode::kInvalidInput, "unknown sampler " + name + " (unipc, dpm++)");
}

int SdeditBeginIndex(int steps, double strength) {
  const int kept = std::min(static_cast<int>(static_cast<double>(steps) * strength), steps);
  return steps - std::max(kept, 0);
}

std::unique_ptr<FlowSampler> MakeSampler(SamplerKind kind, int steps, double shift) {
  if (kind == SamplerKind::kUniPC) return std::make_unique<UniPCSampler>(steps, shift);
  return std::make_unique<DpmPlusPlusSampler>(steps, shift);
}

}  // namespace wanserve::engine
