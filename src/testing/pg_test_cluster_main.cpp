// The ctest fixture that gives every test of a run one PostgreSQL server:
// `pg_test_cluster start` before the first test that needs it, `pg_test_cluster stop` after
// the last (tests/CMakeLists.txt).
#include <cstdio>
#include <exception>
#include <string>

#include "testing/postgres_cluster.h"

int main(int argc, char** argv) {
  const std::string command = argc > 1 ? argv[1] : "";
  try {
    if (command == "start") return wanserve::testing::PostgresCluster::StartFixture();
    if (command == "stop") return wanserve::testing::PostgresCluster::StopFixture();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  std::fprintf(stderr, "usage: pg_test_cluster start|stop\n");
  return 2;
}
