#pragma once
#include <cstdint>
#include <string>

namespace wanserve {

// "2026-11-22T10:04:05.123Z"
std::string FormatIso8601Utc(int64_t unix_ms);
// "2026-11-22T10:04:05.123+00:00", for APIs that write times with an offset.
std::string FormatIso8601Offset(int64_t unix_ms);
// "2026-11-22 10:04:05.123" (UTC), DashScope's form.
std::string FormatSpacedUtc(int64_t unix_ms);
// Parses "YYYY-MM-DDTHH:MM:SS[.fff]Z" (UTC only); -1 when malformed.
int64_t ParseIso8601Utc(const std::string& text);

}  // namespace wanserve
