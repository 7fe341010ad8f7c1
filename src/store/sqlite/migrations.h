#pragma once
// Versioned schema migrations; PRAGMA user_version records how many have been applied.
#include <string>
#include <vector>

namespace wanserve::store::sqlite {

const std::vector<std::string>& Migrations();

}  // namespace wanserve::store::sqlite
