#include "store/postgres/queue_listener.h"

#include <libpq-fe.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>

#include "store/postgres/pg_connection.h"

namespace wanserve::store::postgres {

QueueListener::QueueListener(std::string url, std::function<void()> wake) : url_(std::move(url)), wake_(std::move(wake)) {
  if (::pipe(stop_pipe_) != 0) throw std::runtime_error("queue listener: pipe failed");
  thread_ = std::thread([this] { Run(); });
}

QueueListener::~QueueListener() {
  stopping_ = true;
  const char byte = 1;
  (void)!::write(stop_pipe_[1], &byte, 1);
  thread_.join();
  ::close(stop_pipe_[0]);
  ::close(stop_pipe_[1]);
}

void QueueListener::Run() {
  bool reported = false;
  while (!stopping_) {
    PGconn* conn = Connect(url_);
    PGresult* r = PQstatus(conn) == CONNECTION_OK ? PQexec(conn, (std::string("LISTEN ") + kQueueChannel).c_str())
                                                  : nullptr;
    const bool listening = r && PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (listening) {
      reported = false;
      wake_();  // whatever was queued while no one listened
      Listen(conn);
    } else if (!reported) {
      spdlog::warn("queue notifications unavailable ({}); workers poll meanwhile", PQerrorMessage(conn));
      reported = true;
    }
    PQfinish(conn);
    // Before reconnecting: a second, or at once when stopping.
    pollfd stop{stop_pipe_[0], POLLIN, 0};
    if (!stopping_) ::poll(&stop, 1, 1000);
  }
}

void QueueListener::Listen(void* raw) {
  auto* conn = static_cast<PGconn*>(raw);
  while (!stopping_) {
    pollfd fds[2] = {{PQsocket(conn), POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) continue;
    if (fds[1].revents != 0) return;
    if (PQconsumeInput(conn) == 0) return;  // the connection is lost
    bool woken = false;
    while (PGnotify* n = PQnotifies(conn)) {
      PQfreemem(n);
      woken = true;
    }
    if (woken) wake_();
  }
}

}  // namespace wanserve::store::postgres
