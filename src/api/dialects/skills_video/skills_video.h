#pragma once
// skills.video open API: /api/v1/generation/wan/wan-v2.7[-pro|/edit-video], gen_ ids,
// IN_QUEUE/IN_PROGRESS/COMPLETED/FAILED/CANCELED, errors {error, code, message}.
#include "api/api_context.h"
#include "api/router.h"
#include "callbacks/dispatcher.h"

namespace wanserve::api::dialects::skills_video {

void Register(Router& router, const ApiContext& ctx);
// The callback body: a Standard Webhooks event {type, id, created_at, prediction}, where
// prediction is the generation as the query shows it plus its lower-case state.
callbacks::CallbackPayload RenderCallback(const core::Task& task, const store::CallbackDelivery& delivery,
                                          const ApiContext& ctx);

}  // namespace wanserve::api::dialects::skills_video
