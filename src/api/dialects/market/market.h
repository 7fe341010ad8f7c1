#pragma once
// kie-style Market API (the seed's variant authenticates with x-api-key): createTask with
// {model, input, callBackUrl}, recordInfo?taskId=, envelope {code, msg, data}.
#include "api/api_context.h"
#include "api/router.h"

namespace wanserve::api::dialects::market {

void Register(Router& router, const ApiContext& ctx);

}  // namespace wanserve::api::dialects::market
