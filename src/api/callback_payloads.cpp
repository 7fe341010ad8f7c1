#include "api/callback_payloads.h"

#include "api/dialects/dashscope/dashscope.h"
#include "api/dialects/market/market.h"
#include "api/dialects/skills_video/skills_video.h"
#include "api/dialects/unified/unified.h"

namespace wanserve::api {

callbacks::PayloadRenderer MakeCallbackRenderer(const ApiContext& ctx) {
  return [&ctx](const core::Task& task, const store::CallbackDelivery& d) -> Result<callbacks::CallbackPayload> {
    if (task.dialect == "unified") return dialects::unified::RenderCallback(task, d, ctx);
    if (task.dialect == "market") return dialects::market::RenderCallback(task, d, ctx);
    if (task.dialect == "skills_video") return dialects::skills_video::RenderCallback(task, d, ctx);
    if (task.dialect == "dashscope") return dialects::dashscope::RenderCallback(task, d, ctx);
    return MakeError(ErrorCode::kInternal, "task " + task.id + " has an unknown dialect " + task.dialect);
  };
}

}  // namespace wanserve::api
