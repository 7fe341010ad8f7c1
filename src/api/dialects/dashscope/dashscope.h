#pragma once
// Alibaba Cloud Model Studio (DashScope) native API, so its SDKs and scripts run unchanged:
// POST /api/v1/services/aigc/video-generation/video-synthesis (wan2.7-t2v, wan2.7-videoedit),
// POST /api/v1/services/aigc/image-generation/generation (wan2.7-image, wan2.7-image-pro), both
// with X-DashScope-Async: enable; GET /api/v1/tasks/{task_id}; POST /api/v1/tasks/{task_id}/cancel.
// Task ids are UUIDs; status PENDING/RUNNING/SUCCEEDED/FAILED/CANCELED/UNKNOWN; errors
// {request_id, code, message}.
#include "api/api_context.h"
#include "api/router.h"
#include "callbacks/dispatcher.h"

namespace wanserve::api::dialects::dashscope {

void Register(Router& router, const ApiContext& ctx);
// Temporary storage: GET /api/v1/uploads?action=getPolicy&model=… and the OSS PostObject form
// at /api/v1/uploads/oss; the client then names the file oss://<key> (48 h).
void RegisterUploads(Router& router, const ApiContext& ctx);
// DashScope has no webhooks; an account endpoint gets the task query's JSON.
callbacks::CallbackPayload RenderCallback(const core::Task& task, const store::CallbackDelivery& delivery,
                                          const ApiContext& ctx);

}  // namespace wanserve::api::dialects::dashscope
