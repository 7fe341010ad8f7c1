#pragma once
// Options whose value may also come from the environment, where a flag always wins.
//
// The admin and client subcommands bind their options to one argument struct shared by
// sibling subcommands, so CLI11's envname cannot be used there: a sibling's option, absent
// from the command line, would write the variable over the flag the running command was given.
#include <cstdlib>
#include <string>

namespace wanserve::cli {

// The flag's value when given (non-empty), else the environment variable's, else `fallback`.
inline std::string FlagOrEnv(const std::string& flag, const char* variable, const std::string& fallback = "") {
  if (!flag.empty()) return flag;
  const char* value = std::getenv(variable);
  return value && *value ? value : fallback;
}

}  // namespace wanserve::cli
