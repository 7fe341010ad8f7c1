#include "tasks/task_metrics.h"

#include <string>

namespace wanserve::tasks {

void DescribeTaskOutcomes(MetricsRegistry& metrics) {
  metrics.Describe("wanserve_task_outcomes_total", "counter",
                   "Tasks this node ended, by model, provider, outcome and error code");
}

void CountTaskOutcome(MetricsRegistry& metrics, std::string_view model, std::string_view provider,
                      std::string_view outcome, std::string_view code) {
  const auto or_none = [](std::string_view s) { return s.empty() ? std::string("none") : std::string(s); };
  metrics.Increment("wanserve_task_outcomes_total", {{"model", std::string(model)},
                                                     {"provider", or_none(provider)},
                                                     {"outcome", std::string(outcome)},
                                                     {"code", or_none(code)}});
}

}  // namespace wanserve::tasks
