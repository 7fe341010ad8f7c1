#pragma once
// A throwaway PostgreSQL server for tests: initdb and pg_ctl from the Debian server package in
// a temporary folder, listening on a Unix socket there only, fsync off. As root the server
// runs as the postgres user (it refuses root). Every test gets its own schema, so tests share
// one server per process and still start from an empty database.
#include <memory>
#include <string>

namespace wanserve::testing {

class PostgresCluster {
 public:
  // The process's server, started on first use and stopped at exit; nullptr when the server
  // binaries are absent (why says so: tests skip), and a failure to start is fatal.
  static PostgresCluster* Shared(std::string* why_not);

  ~PostgresCluster();
  PostgresCluster(const PostgresCluster&) = delete;
  PostgresCluster& operator=(const PostgresCluster&) = delete;

  // postgresql:// URL of the server's database with search_path set to a new empty schema.
  std::string FreshSchemaUrl();
  // The server's database as a URL (public schema).
  std::string Url() const;
  // Stops the server as a crash would (-m immediate) and starts it again.
  void RestartImmediate();

 private:
  PostgresCluster(std::string bin_dir, std::string dir);
  void Start();
  void Stop(const char* mode);
  std::string AsServerUser(const std::string& command) const;

  std::string bin_dir_;
  std::string dir_;  // data/, the socket and the log
  int schemas_ = 0;
};

}  // namespace wanserve::testing
