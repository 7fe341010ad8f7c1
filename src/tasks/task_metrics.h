#pragma once
// The outcome count every node keeps of the tasks it ends, whether run here or upstream, so a
// dashboard can break finished tasks down by model, provider, outcome and error code.
#include <string_view>

#include "common/metrics.h"

namespace wanserve::tasks {

void DescribeTaskOutcomes(MetricsRegistry& metrics);

// wanserve_task_outcomes_total{model, provider, outcome, code}; an empty provider (none was
// tried) or code (success, cancel) reads "none".
void CountTaskOutcome(MetricsRegistry& metrics, std::string_view model, std::string_view provider,
                      std::string_view outcome, std::string_view code);

}  // namespace wanserve::tasks
