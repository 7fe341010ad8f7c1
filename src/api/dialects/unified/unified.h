#pragma once
// EvoLink-style "unified" API: /v1/images/generations, /v1/videos/generations, /v1/tasks/{id},
// ids task-unified-<unix>-<8 [a-z0-9]>, status pending/processing/completed/failed,
// errors {error: {code, message, type, param}}.
#include "api/api_context.h"
#include "api/router.h"
#include "callbacks/dispatcher.h"

namespace wanserve::api::dialects::unified {

void Register(Router& router, const ApiContext& ctx);
// EvoLink's files API under /api/v1/files/: upload (stream, base64, url), list, quota, delete,
// download.
void RegisterFiles(Router& router, const ApiContext& ctx);
// The callback body: exactly the task query's JSON.
callbacks::CallbackPayload RenderCallback(const core::Task& task, const store::CallbackDelivery& delivery,
                                          const ApiContext& ctx);

}  // namespace wanserve::api::dialects::unified
