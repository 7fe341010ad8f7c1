#include <memory>
#include <vector>

#include "store/task_store_contract.h"
#include "testing/temp_dir.h"

namespace wanserve::store {
namespace {

std::vector<std::shared_ptr<testing::TempDir>>& Dirs() {
  static std::vector<std::shared_ptr<testing::TempDir>> dirs;
  return dirs;
}

std::unique_ptr<Store> MakeSqlite() {
  auto dir = std::make_shared<testing::TempDir>();
  Dirs().push_back(dir);
  auto s = OpenSqliteStore({(dir->path() / "t.db").string()});
  if (!s.ok()) throw std::runtime_error(s.error().message);
  return std::move(s).value();
}

INSTANTIATE_TEST_SUITE_P(Sqlite, TaskStoreContract, ::testing::Values(StoreFactory(MakeSqlite)),
                         [](const auto&) { return std::string("sqlite"); });
INSTANTIATE_TEST_SUITE_P(Sqlite, LedgerContract, ::testing::Values(StoreFactory(MakeSqlite)),
                         [](const auto&) { return std::string("sqlite"); });

TEST(SqliteStore, ReopeningKeepsDataAndSchema) {
  testing::TempDir dir;
  const std::string path = (dir.path() / "t.db").string();
  {
    auto s = OpenSqliteStore({path});
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE((*s)->InsertKey({"key_1", kDefaultAccountId, "n", "h", "p", 1, 0, 0, 0, false}).ok());
  }
  auto s = OpenSqliteStore({path});
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_TRUE((*s)->FindActiveKeyByHash("h").ok());
}

TEST(SqliteStore, UnwritableLocationIsAnErrorValue) {
  auto s = OpenSqliteStore({"/proc/definitely/not/here.db"});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace wanserve::store
