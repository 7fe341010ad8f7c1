#pragma once
// kie-style Market API (the seed's variant authenticates with x-api-key): createTask with
// {model, input, callBackUrl}, recordInfo?taskId=, envelope {code, msg, data}.
#include "api/api_context.h"
#include "api/router.h"
#include "callbacks/dispatcher.h"

namespace wanserve::api::dialects::market {

void Register(Router& router, const ApiContext& ctx);
// kie's file upload API: /api/file-stream-upload, /api/file-url-upload, /api/file-base64-upload.
void RegisterFiles(Router& router, const ApiContext& ctx);
// The callback body: the recordInfo envelope (with data.taskId and data.task_id), signed also
// with kie's X-Webhook-Signature over "<taskId>.<timestamp>".
callbacks::CallbackPayload RenderCallback(const core::Task& task, const store::CallbackDelivery& delivery,
                                          const ApiContext& ctx);

}  // namespace wanserve::api::dialects::market
