#pragma once
// A minimal valid task for store-level tests: a queued text-to-video task of key_a on the
// default account. Tests set what they are about on top.
#include <string>

#include "core/task.h"

namespace wanserve::testing {

inline core::Task SampleTask(const std::string& id, int64_t created_ms = 1) {
  core::Task t;
  t.id = id;
  t.dialect = "unified";
  t.key_id = "key_a";
  t.model_alias = "m";
  t.client_echo = "{}";
  t.request.kind = core::RequestKind::kTextToVideo;
  t.request.model = "wan2.7-t2v";
  t.created_ms = created_ms;
  return t;
}

}  // namespace wanserve::testing
