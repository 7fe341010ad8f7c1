#pragma once
// Renders each task's callback body in the dialect it was submitted in.
#include "api/api_context.h"
#include "callbacks/dispatcher.h"

namespace wanserve::api {

callbacks::PayloadRenderer MakeCallbackRenderer(const ApiContext& ctx);

}  // namespace wanserve::api
