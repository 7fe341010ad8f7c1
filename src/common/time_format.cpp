#include "common/time_format.h"

#include <fmt/format.h>

#include <cstdio>
#include <ctime>

namespace wanserve {

namespace {

std::string FormatUtc(int64_t unix_ms, char separator, std::string_view suffix) {
  const std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}{}{:02}:{:02}:{:02}.{:03}{}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     separator, tm.tm_hour, tm.tm_min, tm.tm_sec, unix_ms % 1000, suffix);
}

}  // namespace

std::string FormatIso8601Utc(int64_t unix_ms) { return FormatUtc(unix_ms, 'T', "Z"); }

std::string FormatIso8601Offset(int64_t unix_ms) { return FormatUtc(unix_ms, 'T', "+00:00"); }

std::string FormatSpacedUtc(int64_t unix_ms) { return FormatUtc(unix_ms, ' ', ""); }

int64_t ParseIso8601Utc(const std::string& text) {
  std::tm tm{};
  int ms = 0;
  char tail[8] = {0};
  int n = std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%7s", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                      &tm.tm_hour, &tm.tm_min, &tm.tm_sec, tail);
  if (n != 7) return -1;
  std::string rest = tail;
  if (rest.size() == 5 && rest[0] == '.' && rest[4] == 'Z') {
    ms = std::stoi(rest.substr(1, 3));
  } else if (rest != "Z") {
    return -1;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<int64_t>(timegm(&tm)) * 1000 + ms;
}

}  // namespace wanserve
