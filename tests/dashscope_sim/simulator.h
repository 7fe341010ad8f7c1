#pragma once
// A DashScope (Alibaba Model Studio) stand-in for tests: a real HTTP server on loopback that
// speaks the Wan 2.7 async protocol as documented (API-DIALECTS.md §4): it checks the key, the
// async header and every body field the way DashScope does, runs each task through PENDING and
// RUNNING for a set time, then answers SUCCEEDED with links to real PNG/MP4 files it serves.
// Faults can be injected: throttled or failing creates and queries, slow answers, slow
// downloads, content-inspection failures and forgotten (UNKNOWN) tasks.
#include <nlohmann/json.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "testing/loopback_http_server.h"

namespace wanserve::testing {

struct SimFaults {
  int create_throttled = 0;      // the next N creates answer 429 Throttling.RateQuota
  int create_server_error = 0;   // the next N creates answer 500 InternalError
  int query_server_error = 0;    // the next N queries answer 500 InternalError
  int query_delay_ms = 0;        // every query waits this long before answering
  int download_delay_ms = 0;     // every result download waits this long
  std::string fail_code;         // new tasks end FAILED with this code (e.g. DataInspectionFailed)
  bool forget_tasks = false;     // queries answer UNKNOWN, as for an expired task
};

struct SimOptions {
  std::string api_key = "sk-sim-0123456789";
  int pending_ms = 200;
  int running_ms = 500;
};

class DashScopeSimulator {
 public:
  explicit DashScopeSimulator(SimOptions options = {});

  // "http://127.0.0.1:<port>/api/v1", what the provider's base_url should be.
  std::string BaseUrl() const;
  void SetFaults(const SimFaults& faults);
  // Accepted create requests, in total and per prompt (each test task has its own prompt).
  int Creates() const;
  std::map<std::string, int> CreatesByPrompt() const;
  int Queries() const;
  // Tasks still PENDING or RUNNING.
  int InFlight() const;
  // The body of the last accepted create request.
  nlohmann::json LastCreate() const;
  const LoopbackHttpServer& server() const { return *server_; }

 private:
  struct SimTask {
    std::string id;
    std::string model;
    nlohmann::json request;
    std::chrono::steady_clock::time_point created;
    bool canceled = false;
    std::string fail_code;
  };

  ScriptedResponse Handle(const ReceivedRequest& request);
  ScriptedResponse Create(const ReceivedRequest& request, bool video);
  ScriptedResponse Query(const std::string& id);
  ScriptedResponse Cancel(const std::string& id);
  ScriptedResponse Result(const std::string& file);
  std::string Status(const SimTask& task) const;

  SimOptions options_;
  mutable std::mutex mu_;
  SimFaults faults_;
  std::map<std::string, SimTask> tasks_;
  std::map<std::string, int> creates_by_prompt_;
  nlohmann::json last_create_;
  int creates_ = 0;
  int queries_ = 0;
  std::unique_ptr<LoopbackHttpServer> server_;
};

}  // namespace wanserve::testing
