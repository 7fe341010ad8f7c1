#include "testing/postgres_cluster.h"

#include <libpq-fe.h>
#include <pwd.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <vector>

namespace wanserve::testing {
namespace {

namespace fs = std::filesystem;

// WANSERVE_PG_BIN, else the newest /usr/lib/postgresql/<version>/bin with initdb in it.
std::string FindBinDir() {
  if (const char* env = std::getenv("WANSERVE_PG_BIN"); env && *env) return env;
  std::string best;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    const fs::path bin = entry.path() / "bin";
    if (fs::exists(bin / "initdb") && fs::exists(bin / "pg_ctl") && bin.string() > best) best = bin.string();
  }
  return best;
}

void Run(const std::string& command) {
  if (std::system(command.c_str()) != 0) throw std::runtime_error("test PostgreSQL: failed: " + command);
}

// Where the ctest fixture keeps its server: in the temp folder (the server user must reach
// it), named after the build folder (WANSERVE_TEST_PG_NAME, set by CMake).
std::string FixtureDir() { return (fs::temp_directory_path() / WANSERVE_TEST_PG_NAME).string(); }

}  // namespace

PostgresCluster* PostgresCluster::Shared(std::string* why_not) {
  static std::unique_ptr<PostgresCluster> shared = []() -> std::unique_ptr<PostgresCluster> {
    const std::string bin = FindBinDir();
    if (!bin.empty() && fs::exists(FixtureDir() + "/data/postmaster.pid")) {
      return std::unique_ptr<PostgresCluster>(new PostgresCluster(bin, FixtureDir(), false));
    }
    return StartPrivate(nullptr);
  }();
  if (!shared && why_not) *why_not = "PostgreSQL server binaries not found (install postgresql-15)";
  return shared.get();
}

std::unique_ptr<PostgresCluster> PostgresCluster::StartPrivate(std::string* why_not) {
  const std::string bin = FindBinDir();
  if (bin.empty()) {
    if (why_not) *why_not = "PostgreSQL server binaries not found (install postgresql-15)";
    return nullptr;
  }
  std::string pattern = (fs::temp_directory_path() / "wanserve-pg-XXXXXX").string();
  if (!mkdtemp(pattern.data())) throw std::runtime_error("test PostgreSQL: mkdtemp failed");
  auto cluster = std::unique_ptr<PostgresCluster>(new PostgresCluster(bin, pattern, true));
  cluster->Create();
  cluster->Start();
  return cluster;
}

int PostgresCluster::StartFixture(const std::string& dir) {
  const std::string where = dir.empty() ? FixtureDir() : dir;
  const std::string bin = FindBinDir();
  if (bin.empty()) {
    std::printf("no PostgreSQL server binaries: the tests that need one skip\n");
    return 0;
  }
  StopFixture(where);  // what a killed run may have left
  fs::create_directories(where);
  PostgresCluster cluster(bin, where, false);
  cluster.Create();
  cluster.Start();
  std::printf("%s\n", cluster.Url().c_str());
  return 0;
}

int PostgresCluster::StopFixture(const std::string& dir) {
  const std::string where = dir.empty() ? FixtureDir() : dir;
  const std::string bin = FindBinDir();
  if (!bin.empty() && fs::exists(where + "/data/postmaster.pid")) {
    PostgresCluster(bin, where, false).Stop("immediate");
  }
  std::error_code ec;
  fs::remove_all(where, ec);
  return 0;
}

PostgresCluster::PostgresCluster(std::string bin_dir, std::string dir, bool owned)
    : bin_dir_(std::move(bin_dir)), dir_(std::move(dir)), owned_(owned) {}

void PostgresCluster::Create() {
  if (geteuid() == 0) {
    const passwd* pw = getpwnam("postgres");
    if (!pw) throw std::runtime_error("test PostgreSQL: running as root and there is no postgres user");
    if (chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) throw std::runtime_error("test PostgreSQL: chown failed");
  }
  Run(AsServerUser(bin_dir_ + "/initdb -D " + dir_ + "/data -U postgres --auth=trust --no-sync -E UTF8 --locale=C"
                   " >" + dir_ + "/initdb.log 2>&1"));
  std::ofstream conf(dir_ + "/data/postgresql.conf", std::ios::app);
  conf << "listen_addresses = ''\n"
       << "unix_socket_directories = '" << dir_ << "'\n"
       // fsync off: an OS crash may lose data, a server crash (what the tests cause) may not.
       << "fsync = off\nfull_page_writes = off\n"
       << "max_connections = 300\n";
}

PostgresCluster::~PostgresCluster() {
  if (!owned_) return;
  Stop("immediate");
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

std::string PostgresCluster::AsServerUser(const std::string& command) const {
  if (geteuid() != 0) return command;
  return "runuser -u postgres -- sh -c '" + command + "'";
}

void PostgresCluster::Start() {
  Run(AsServerUser(bin_dir_ + "/pg_ctl -D " + dir_ + "/data -l " + dir_ + "/server.log -w -s start"));
}

void PostgresCluster::Stop(const char* mode) {
  (void)std::system(
      AsServerUser(bin_dir_ + "/pg_ctl -D " + dir_ + "/data -m " + mode + " -w -s stop >/dev/null 2>&1").c_str());
}

void PostgresCluster::RestartImmediate() {
  Stop("immediate");
  Start();
}

std::string PostgresCluster::Url() const {
  return "postgresql://postgres@/postgres?host=" + dir_ + "&port=5432";
}

std::string PostgresCluster::FreshSchemaUrl() {
  const std::string schema = "t" + std::to_string(getpid()) + "_" + std::to_string(++schemas_);
  PGconn* conn = PQconnectdb(Url().c_str());
  const bool connected = PQstatus(conn) == CONNECTION_OK;
  PGresult* r = connected ? PQexec(conn, ("CREATE SCHEMA " + schema).c_str()) : nullptr;
  const bool created = r && PQresultStatus(r) == PGRES_COMMAND_OK;
  const std::string message = PQerrorMessage(conn);
  PQclear(r);
  PQfinish(conn);
  if (!created) throw std::runtime_error("test PostgreSQL: create schema: " + message);
  return Url() + "&options=-csearch_path%3D" + schema;
}

}  // namespace wanserve::testing
