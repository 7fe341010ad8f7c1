#include "callbacks/dead_letters.h"

namespace wanserve::callbacks {

Result<ResendReport> ResendDeadLetters(store::CallbackStore& store, const std::string& account_id, int64_t now_ms) {
  ASSIGN_OR_RETURN(auto dead, store.ListFailedCallbacks(account_id, kDeadLettersPerPass));
  ResendReport report;
  report.more = dead.size() == static_cast<size_t>(kDeadLettersPerPass);
  for (const auto& letter : dead) {
    auto resent = store.ResendFailedCallback(letter.delivery.id, now_ms);
    if (resent.ok()) report.resent.push_back({letter.delivery.id, resent->id});
  }
  return report;
}

}  // namespace wanserve::callbacks
