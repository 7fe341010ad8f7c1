#pragma once
// The tests' Node.js tools in tests/node (the S3 server, the OpenAPI validator), installed by
// scripts/bootstrap.sh.
#include <string>

namespace wanserve::testing {

// Whether Node.js and the npm packages of tests/node are installed.
bool NodeToolsAvailable();
// The path of a script in tests/node.
std::string NodeScript(const std::string& name);

}  // namespace wanserve::testing
