#pragma once
// Text helpers. UTF-8: the seeds count prompt limits in characters, not bytes.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace wanserve {

// Number of code points, or nullopt when s is not valid UTF-8 (overlong forms, surrogates and
// values above U+10FFFF are invalid).
std::optional<size_t> Utf8Length(std::string_view s);
// The first max_chars code points of a valid UTF-8 string.
std::string Utf8Truncate(std::string_view s, size_t max_chars);
// ASCII case-insensitive equality ("720P" and "720p").
bool EqualsIgnoringCase(std::string_view a, std::string_view b);

}  // namespace wanserve
