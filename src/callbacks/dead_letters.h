#pragma once
// Sending dead letters again: every delivery given up (of one account, or of all), each as a new
// delivery with a new webhook-id. Shared by the admin HTTP API and `wanserve admin callbacks`.
#include <cstdint>
#include <string>
#include <vector>

#include "store/callback_store.h"

namespace wanserve::callbacks {

inline constexpr int kDeadLettersPerPass = 1000;

struct ResentLetter {
  std::string dead_id;  // the delivery given up
  std::string new_id;   // the pending one that replaces it
};

struct ResendReport {
  std::vector<ResentLetter> resent;
  bool more = false;  // a pass takes kDeadLettersPerPass at most; run it again
};

// One pass over the dead letters, oldest first. A letter resent meanwhile by someone else is
// skipped, not an error.
Result<ResendReport> ResendDeadLetters(store::CallbackStore& store, const std::string& account_id, int64_t now_ms);

}  // namespace wanserve::callbacks
