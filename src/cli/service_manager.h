#pragma once

#include <string_view>

namespace wanserve::cli {

// Tells systemd (a Type=notify unit) how the server stands: "READY=1" once it listens and its
// store is open, "STOPPING=1" when a drain begins, "STATUS=…" for `systemctl status`. Does
// nothing when the process was not started by a service manager (no NOTIFY_SOCKET).
void NotifyServiceManager(std::string_view state);

}  // namespace wanserve::cli
