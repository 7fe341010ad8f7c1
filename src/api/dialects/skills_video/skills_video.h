#pragma once
// skills.video open API: /api/v1/generation/wan/wan-v2.7[-pro|/edit-video], gen_ ids,
// IN_QUEUE/IN_PROGRESS/COMPLETED/FAILED/CANCELED, errors {error, code, message}.
#include "api/api_context.h"
#include "api/router.h"

namespace wanserve::api::dialects::skills_video {

void Register(Router& router, const ApiContext& ctx);

}  // namespace wanserve::api::dialects::skills_video
