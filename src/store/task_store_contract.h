#pragma once
// The contract every TaskStore/KeyStore backend must satisfy. A backend's test instantiates
// the suite with a factory (see sqlite/sqlite_store_test.cpp).
#include <gtest/gtest.h>

#include <functional>
#include <memory>

#include "store/task_store.h"

namespace wanserve::store {

using StoreFactory = std::function<std::unique_ptr<Store>()>;

class TaskStoreContract : public ::testing::TestWithParam<StoreFactory> {
 protected:
  void SetUp() override { store_ = GetParam()(); }
  std::unique_ptr<Store> store_;
};

}  // namespace wanserve::store
