#include <sqlite3.h>

#include <memory>
#include <vector>

#include "core/request.h"
#include "store/sqlite/migrations.h"
#include "store/task_store_contract.h"
#include "testing/temp_dir.h"
#include "store/sqlite/sqlite_store.h"

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

// A database left at `version` by an older binary, holding a key and a task in the columns
// every version has.
void WriteDatabaseAtVersion(const std::string& path, size_t version) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA foreign_keys=ON", nullptr, nullptr, nullptr), SQLITE_OK);
  for (size_t i = 0; i < version; ++i) {
    ASSERT_EQ(sqlite3_exec(db, sqlite::Migrations()[i].c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db);
  }
  core::GenerationRequest request;
  request.prompt = "kept across upgrades";
  const std::string rows =
      "INSERT INTO api_keys (id, name, hash, prefix, created_ms) VALUES ('key_old', 'old', 'old-hash', 'ws_', 1);"
      "INSERT INTO tasks (id, dialect, key_id, model_alias, client_echo, request_json, state, created_ms, "
      "updated_ms) VALUES ('task_old', 'unified', 'key_old', 'wan-2.7-image', '{}', ?1, 'queued', 1, 1);";
  const std::string encoded = core::EncodeRequest(request);
  sqlite3_stmt* insert = nullptr;
  const char* rest = rows.c_str();
  while (*rest != '\0') {
    ASSERT_EQ(sqlite3_prepare_v2(db, rest, -1, &insert, &rest), SQLITE_OK) << sqlite3_errmsg(db);
    if (insert == nullptr) break;
    sqlite3_bind_text(insert, 1, encoded.c_str(), -1, SQLITE_TRANSIENT);
    ASSERT_EQ(sqlite3_step(insert), SQLITE_DONE) << sqlite3_errmsg(db);
    sqlite3_finalize(insert);
  }
  const std::string set_version = "PRAGMA user_version = " + std::to_string(version);
  ASSERT_EQ(sqlite3_exec(db, set_version.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
}

TEST(SqliteStore, EveryEarlierSchemaWithRowsIsUpgradedKeepingThem) {
  for (size_t version = 1; version < sqlite::Migrations().size(); ++version) {
    SCOPED_TRACE("from version " + std::to_string(version));
    testing::TempDir dir;
    const std::string path = (dir.path() / "t.db").string();
    WriteDatabaseAtVersion(path, version);
    auto s = OpenSqliteStore({path});
    ASSERT_TRUE(s.ok()) << s.error().message;
    auto key = (*s)->FindActiveKeyByHash("old-hash");
    ASSERT_TRUE(key.ok()) << key.error().message;
    EXPECT_EQ(key->account_id, kDefaultAccountId);
    EXPECT_FALSE(key->admin);
    auto task = (*s)->Get("task_old");
    ASSERT_TRUE(task.ok()) << task.error().message;
    EXPECT_EQ(task->account_id, kDefaultAccountId);
    EXPECT_EQ(task->request.prompt, "kept across upgrades");
    // Foreign keys are enforced again once the upgrade is done.
    EXPECT_FALSE((*s)->InsertKey({"key_new", "acct_missing", "n", "h2", "p", 1, 0, 0, 0, false}).ok());
  }
}

TEST(SqliteStore, UnwritableLocationIsAnErrorValue) {
  auto s = OpenSqliteStore({"/proc/definitely/not/here.db"});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace wanserve::store
