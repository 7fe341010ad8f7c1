#pragma once
// A throwaway PostgreSQL server for tests: initdb and pg_ctl from the Debian server package in
// a temporary folder, listening on a Unix socket there only, fsync off. As root the server
// runs as the postgres user (it refuses root). Every test gets its own schema, so tests share
// one server and still start from an empty database. Under ctest the server is the one the
// `postgres` test fixture started for the whole run (pg_test_cluster); a test binary run by
// hand starts its own.
#include <memory>
#include <string>

namespace wanserve::testing {

class PostgresCluster {
 public:
  // The fixture's server when it runs, else the process's own, started on first use and
  // stopped at exit; nullptr when the server binaries are absent (why says so: tests skip).
  // A failure to start throws.
  static PostgresCluster* Shared(std::string* why_not);

  // A server of the caller's own, for tests that restart or stop it; nullptr as above.
  static std::unique_ptr<PostgresCluster> StartPrivate(std::string* why_not);

  // The ctest fixture's server (pg_test_cluster start|stop): started afresh in its folder (or
  // dir), printing its URL, or stopped and removed. Return a process exit code.
  static int StartFixture(const std::string& dir = "");
  static int StopFixture(const std::string& dir = "");

  ~PostgresCluster();
  PostgresCluster(const PostgresCluster&) = delete;
  PostgresCluster& operator=(const PostgresCluster&) = delete;

  // postgresql:// URL of the server's database with search_path set to a new empty schema.
  std::string FreshSchemaUrl();
  // The server's database as a URL (public schema).
  std::string Url() const;
  // Stops the server as a crash would (-m immediate) and starts it again. Only on a private
  // server: the shared one serves tests running beside.
  void RestartImmediate();

 private:
  PostgresCluster(std::string bin_dir, std::string dir, bool owned);
  void Create();
  void Start();
  void Stop(const char* mode);
  std::string AsServerUser(const std::string& command) const;

  std::string bin_dir_;
  std::string dir_;  // data/, the socket and the log
  bool owned_;       // stopped and removed with this object
  int schemas_ = 0;
};

}  // namespace wanserve::testing
