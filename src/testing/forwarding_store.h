#pragma once
// A store that passes every call to another: a test derives from it and overrides the calls it
// wants to fail or observe (a commit whose answer is lost, a database that goes away).
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/task_store.h"

namespace wanserve::testing {

class ForwardingStore : public store::Store {
 public:
  explicit ForwardingStore(store::Store& inner) : inner_(inner) {}

  Result<core::Usage> Insert(const core::Task& task, const store::Hold& hold) override {
    return inner_.Insert(task, hold);
  }
  Result<std::optional<store::IdempotentSubmit>> FindIdempotentSubmit(const std::string& key_id,
                                                                      const std::string& idempotency_key,
                                                                      int64_t since_ms) override {
    return inner_.FindIdempotentSubmit(key_id, idempotency_key, since_ms);
  }
  Result<int> PruneIdempotencyKeys(int64_t before_ms) override { return inner_.PruneIdempotencyKeys(before_ms); }
  Result<core::Task> Get(const std::string& id) override { return inner_.Get(id); }
  Result<std::vector<core::Task>> ListActive(const std::string& key_id, int limit) override {
    return inner_.ListActive(key_id, limit);
  }
  Result<std::vector<core::Task>> ListRecent(const std::string& key_id, int limit) override {
    return inner_.ListRecent(key_id, limit);
  }
  Result<std::optional<core::Task>> ClaimNextOf(const std::string& owner, int64_t now_ms, int64_t lease_ms,
                                                const std::vector<std::string>& routes) override {
    return inner_.ClaimNextOf(owner, now_ms, lease_ms, routes);
  }
  Result<bool> RenewLease(const store::LeaseToken& lease, int64_t now_ms, int64_t lease_ms) override {
    return inner_.RenewLease(lease, now_ms, lease_ms);
  }
  Status UpdateProgress(const store::LeaseToken& lease, int progress, int64_t now_ms) override {
    return inner_.UpdateProgress(lease, progress, now_ms);
  }
  Status SetProvider(const store::LeaseToken& lease, const std::string& provider) override {
    return inner_.SetProvider(lease, provider);
  }
  Status Complete(const store::LeaseToken& lease, const std::vector<core::Output>& outputs, int64_t now_ms) override {
    return inner_.Complete(lease, outputs, now_ms);
  }
  Status Fail(const store::LeaseToken& lease, const core::TaskError& error, int64_t now_ms) override {
    return inner_.Fail(lease, error, now_ms);
  }
  Status FinishCanceled(const store::LeaseToken& lease, int64_t now_ms) override {
    return inner_.FinishCanceled(lease, now_ms);
  }
  Status Release(const store::LeaseToken& lease, int64_t now_ms) override { return inner_.Release(lease, now_ms); }
  Result<core::Usage> LowerHold(const store::LeaseToken& lease, int64_t amount, int64_t now_ms) override {
    return inner_.LowerHold(lease, amount, now_ms);
  }
  Result<core::TaskState> RequestCancel(const std::string& id, int64_t now_ms) override {
    return inner_.RequestCancel(id, now_ms);
  }
  Result<store::RecoveryReport> RecoverExpiredLeases(int64_t now_ms, int max_attempts) override {
    return inner_.RecoverExpiredLeases(now_ms, max_attempts);
  }
  Result<std::vector<store::ExpiredOutputs>> ListOutputsFinishedBefore(int64_t cutoff_ms, int limit) override {
    return inner_.ListOutputsFinishedBefore(cutoff_ms, limit);
  }
  Status MarkOutputsExpired(const std::string& task_id) override { return inner_.MarkOutputsExpired(task_id); }
  Result<std::map<core::TaskState, int64_t>> CountByState() override { return inner_.CountByState(); }
  Status InsertKey(const store::ApiKey& key) override { return inner_.InsertKey(key); }
  Result<store::ApiKey> FindActiveKeyByHash(const std::string& hash) override {
    return inner_.FindActiveKeyByHash(hash);
  }
  Result<std::vector<store::ApiKey>> ListKeys() override { return inner_.ListKeys(); }
  Status RevokeKey(const std::string& id, int64_t now_ms) override { return inner_.RevokeKey(id, now_ms); }
  Status InsertAccount(const store::Account& account, const store::Grant& initial, int64_t now_ms) override {
    return inner_.InsertAccount(account, initial, now_ms);
  }
  Result<store::Account> GetAccount(const std::string& id) override { return inner_.GetAccount(id); }
  Result<std::vector<store::Account>> ListAccounts() override { return inner_.ListAccounts(); }
  Status SetAccountWebhookUrl(const std::string& account_id, const std::string& url) override {
    return inner_.SetAccountWebhookUrl(account_id, url);
  }
  Status GrantCredits(const std::string& account_id, const store::Grant& grant, int64_t now_ms) override {
    return inner_.GrantCredits(account_id, grant, now_ms);
  }
  Result<std::vector<store::LedgerProblem>> CheckLedger() override { return inner_.CheckLedger(); }
  Result<store::CreditUse> CreditUseOf(const std::string& account_id, const std::string& key_id) override {
    return inner_.CreditUseOf(account_id, key_id);
  }
  Result<std::vector<store::CallbackDelivery>> ClaimDueCallbacks(int64_t now_ms, int64_t lease_ms, int limit) override {
    return inner_.ClaimDueCallbacks(now_ms, lease_ms, limit);
  }
  Status RecordCallbackAttempt(const store::CallbackAttempt& attempt, bool delivered, int64_t retry_at_ms,
                               int64_t now_ms) override {
    return inner_.RecordCallbackAttempt(attempt, delivered, retry_at_ms, now_ms);
  }
  Result<std::vector<store::CallbackDelivery>> ListCallbacks(const std::string& task_id) override {
    return inner_.ListCallbacks(task_id);
  }
  Result<std::vector<store::CallbackAttempt>> ListCallbackAttempts(const std::string& callback_id) override {
    return inner_.ListCallbackAttempts(callback_id);
  }
  Result<store::CallbackDelivery> ResendCallback(const std::string& task_id, int64_t now_ms) override {
    return inner_.ResendCallback(task_id, now_ms);
  }
  Result<std::vector<store::DeadLetter>> ListFailedCallbacks(const std::string& account_id, int limit) override {
    return inner_.ListFailedCallbacks(account_id, limit);
  }
  Result<store::CallbackDelivery> ResendFailedCallback(const std::string& callback_id, int64_t now_ms) override {
    return inner_.ResendFailedCallback(callback_id, now_ms);
  }
  Result<store::CallbackEndpoint> RecordEndpointResult(const std::string& endpoint, bool ok, const std::string& error,
                                                       int64_t now_ms, int64_t disable_after_ms) override {
    return inner_.RecordEndpointResult(endpoint, ok, error, now_ms, disable_after_ms);
  }
  Result<std::optional<store::CallbackEndpoint>> GetCallbackEndpoint(const std::string& endpoint) override {
    return inner_.GetCallbackEndpoint(endpoint);
  }
  Result<std::vector<store::CallbackEndpoint>> ListCallbackEndpoints() override { return inner_.ListCallbackEndpoints(); }
  Status EnableCallbackEndpoint(const std::string& endpoint) override { return inner_.EnableCallbackEndpoint(endpoint); }
  Status BeginUpstreamSubmit(const store::LeaseToken& lease, const std::string& provider, int64_t now_ms) override {
    return inner_.BeginUpstreamSubmit(lease, provider, now_ms);
  }
  Status AbandonUpstreamSubmit(const store::LeaseToken& lease) override { return inner_.AbandonUpstreamSubmit(lease); }
  Status RecordUpstreamSubmitted(const store::LeaseToken& lease, const std::string& upstream_id, int64_t first_poll_ms,
                                 int64_t now_ms) override {
    return inner_.RecordUpstreamSubmitted(lease, upstream_id, first_poll_ms, now_ms);
  }
  Result<std::optional<store::UpstreamJob>> FindUpstreamJob(const std::string& task_id) override {
    return inner_.FindUpstreamJob(task_id);
  }
  Result<std::vector<store::UpstreamJob>> ClaimDuePolls(int64_t now_ms, int64_t lease_ms, int limit) override {
    return inner_.ClaimDuePolls(now_ms, lease_ms, limit);
  }
  Status RecordPoll(const store::UpstreamJob& claimed, const std::string& status, const std::string& usage_json,
                    int64_t next_poll_ms) override {
    return inner_.RecordPoll(claimed, status, usage_json, next_poll_ms);
  }
  Result<std::optional<store::UploadedFile>> InsertFile(const store::UploadedFile& file, int64_t now_ms,
                                                        int64_t max_files, bool overwrite) override {
    return inner_.InsertFile(file, now_ms, max_files, overwrite);
  }
  Result<store::UploadedFile> GetFile(const std::string& id, int64_t now_ms) override {
    return inner_.GetFile(id, now_ms);
  }
  Result<store::UploadedFile> FindFileByName(const std::string& key_id, const std::string& api, const std::string& path,
                                             const std::string& name, int64_t now_ms) override {
    return inner_.FindFileByName(key_id, api, path, name, now_ms);
  }
  Result<std::vector<store::UploadedFile>> ListFiles(const std::string& key_id, const std::string& api, int64_t now_ms,
                                                     int offset, int limit) override {
    return inner_.ListFiles(key_id, api, now_ms, offset, limit);
  }
  Result<int64_t> CountFiles(const std::string& key_id, const std::string& api, int64_t now_ms) override {
    return inner_.CountFiles(key_id, api, now_ms);
  }
  Result<store::UploadedFile> DeleteFile(const std::string& id, const std::string& key_id, int64_t now_ms) override {
    return inner_.DeleteFile(id, key_id, now_ms);
  }
  Result<std::vector<store::UploadedFile>> TakeExpiredFiles(int64_t now_ms, int limit) override {
    return inner_.TakeExpiredFiles(now_ms, limit);
  }
  std::unique_ptr<store::QueueWatch> WatchQueue(std::function<void()> wake) override {
    return inner_.WatchQueue(std::move(wake));
  }

 protected:
  store::Store& inner_;
};

}  // namespace wanserve::testing
