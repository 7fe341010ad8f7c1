// The ctest fixture that gives every test of a run one PostgreSQL server:
// `pg_test_cluster start` before the first test that needs it, `pg_test_cluster stop` after
// the last (src/testing/CMakeLists.txt). With a folder, a server there for benchmarks.
#include <cstdio>
#include <exception>
#include <string>

#include "testing/postgres_cluster.h"

int main(int argc, char** argv) {
  const std::string command = argc > 1 ? argv[1] : "";
  try {
    const std::string dir = argc > 2 ? argv[2] : "";
    if (command == "start") return wanserve::testing::PostgresCluster::StartFixture(dir);
    if (command == "stop") return wanserve::testing::PostgresCluster::StopFixture(dir);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  std::fprintf(stderr, "usage: pg_test_cluster start|stop [dir]   (start prints the server's URL)\n");
  return 2;
}
