#pragma once
// The operator's HTTP API under /admin/v1, guarded by admin tokens (`wanserve admin tokens
// create`): accounts, credit grants, API keys, the ledger check, callbacks (dead letters,
// resends, endpoint health), the same operations as `wanserve admin` on the data folder. Errors are {"error": {"code", "message", "field"}}.
#include <memory>

#include "api/auth.h"
#include "api/router.h"
#include "common/clock.h"
#include "net/address.h"
#include "store/task_store.h"

namespace wanserve::api {

struct AdminDeps {
  store::Store& store;
  std::shared_ptr<Clock> clock;
  const Authenticator& auth;  // forgets revoked keys at once
  // Judges account webhook URLs when they are set (the outbound client's); null: no address
  // is allowlisted.
  const net::AddressPolicy* url_policy = nullptr;
};

void RegisterAdminRoutes(Router& router, const AdminDeps& deps);

}  // namespace wanserve::api
