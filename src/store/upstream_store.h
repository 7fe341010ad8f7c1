#pragma once
// Tasks that run on an upstream service (DashScope). Submitting is two-phase so that a crash can
// never create an upstream task twice: the intent is committed before the create request is
// sent, and the upstream id after it is accepted. From then on the task belongs to the poller
// (its lease owner is kUpstreamOwner and never expires); polls are scheduled in the store and
// claimed with a lease, so any process can resume them after a restart.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"

namespace wanserve::store {

struct LeaseToken;

// Lease owner of a task handed to the poller.
inline constexpr const char* kUpstreamOwner = "upstream";

enum class UpstreamJobState {
  kSubmitting,  // create request may have been sent; the outcome is not recorded
  kSubmitted,   // upstream accepted it; polled until the task ends
  kDone,        // the task reached a terminal state
};

struct UpstreamJob {
  std::string task_id;
  std::string provider;
  UpstreamJobState state = UpstreamJobState::kSubmitting;
  std::string upstream_id;
  int64_t submitted_ms = 0;
  int64_t next_poll_ms = 0;
  int polls = 0;            // polls claimed so far; the claim token
  std::string last_status;  // upstream status at the last poll
  std::string usage_json;   // upstream's usage report, kept for reconciliation
  // From the task, for claimed polls:
  int attempt = 0;
  bool cancel_requested = false;
};

class UpstreamStore {
 public:
  virtual ~UpstreamStore() = default;
  // Records the intent to create an upstream task for a running task held by lease.
  // kConflict when the lease was lost or the task already has an upstream job.
  virtual Status BeginUpstreamSubmit(const LeaseToken& lease, const std::string& provider, int64_t now_ms) = 0;
  // The upstream refused the create request (nothing was created there): the intent is dropped.
  virtual Status AbandonUpstreamSubmit(const LeaseToken& lease) = 0;
  // The upstream accepted: stores its id, schedules the first poll and hands the task to the
  // poller. kConflict when the lease was lost.
  virtual Status RecordUpstreamSubmitted(const LeaseToken& lease, const std::string& upstream_id,
                                         int64_t first_poll_ms, int64_t now_ms) = 0;
  virtual Result<std::optional<UpstreamJob>> FindUpstreamJob(const std::string& task_id) = 0;
  // Claims up to limit submitted jobs whose poll is due (or whose task has a cancel request):
  // polls counts up and the next poll moves to now_ms + lease_ms.
  virtual Result<std::vector<UpstreamJob>> ClaimDuePolls(int64_t now_ms, int64_t lease_ms, int limit) = 0;
  // Records a poll of a claimed job and schedules the next. kConflict when the claim was lost.
  virtual Status RecordPoll(const UpstreamJob& claimed, const std::string& status, const std::string& usage_json,
                            int64_t next_poll_ms) = 0;
};

}  // namespace wanserve::store
