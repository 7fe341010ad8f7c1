#pragma once
// Credits in SQL: the reads a submit and a settlement are judged by (billing/credit_policy.h
// decides), the ledger rows and balance changes their plans write, and the ledger audit.
// Callers hold the writer connection and an open transaction for the writes.
#include <optional>
#include <string>
#include <vector>

#include "billing/credit_policy.h"
#include "store/sql/connection.h"
#include "store/task_store.h"

namespace wanserve::store::sql {

// The account and key state a submit of `price` is judged by (kInternal for an account that
// does not exist). Counts are read only where a limit needs them.
Result<billing::SubmitInputs> ReadSubmitInputs(Connection& db, const std::string& account_id, const std::string& key_id,
                                               int64_t price, int64_t now_ms);
Status WriteRateBucket(Connection& db, const std::string& key_id, const billing::RateBucket& bucket);

// Writes each entry as a ledger row (task_id on rows of the task) and adds its deltas to the
// account's balances.
Status AppendEntries(Connection& db, const std::string& account_id, const std::string& task_id,
                     const std::vector<billing::LedgerEntry>& entries, int64_t now_ms);

// A task's hold as it stands; nullopt when it holds nothing.
struct TaskHold {
  std::string account_id;
  billing::HeldCredits held;
};
Result<std::optional<TaskHold>> ReadHold(Connection& db, const std::string& task_id);

Result<std::vector<LedgerProblem>> CheckLedger(Connection& db);
Result<CreditUse> CreditUseOf(Connection& db, const std::string& account_id, const std::string& key_id);

}  // namespace wanserve::store::sql
