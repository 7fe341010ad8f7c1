#include "cli/service_manager.h"

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include <cstring>
#include <string>

namespace wanserve::cli {

void NotifyServiceManager(std::string_view state) {
  const std::string message(state);
  // unset_environment = 0: tests and wrappers that exec a child keep the socket.
  const int rc = sd_notify(0, message.c_str());
  // A manager that asked for notifications and cannot get them would kill the unit at its
  // start timeout; say why in the log before that happens.
  if (rc < 0) spdlog::warn("could not notify the service manager ({}): {}", message, std::strerror(-rc));
}

}  // namespace wanserve::cli
