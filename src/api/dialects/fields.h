#pragma once
// Typed, range-checked access to the fields of a JSON request object. Every failure names the
// field and the rule it broke, e.g. "n: must be an integer from 1 to 4 (got 7)".
#include <nlohmann/json.hpp>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/http.h"
#include "common/error.h"

namespace wanserve::api::dialects {

using nlohmann::json;

// The body must be one JSON object in valid UTF-8.
Result<json> ParseJsonObject(const std::string& body);
// The request's body as ParseJsonObject reads it, once its Content-Type says JSON (or nothing).
Result<json> ParseJsonRequest(const HttpRequest& req);

// An absolute http(s) URL with a host, at most max_length characters.
Status CheckUrl(const std::string& url, const std::string& field, bool https_only = false,
                size_t max_length = 4096);

// Dotted path of the first string in root equal to value ("input.image_urls[1]"); "body" when
// none is.
std::string PathOf(const json& root, const std::string& value);

// What a dialect tolerates beyond the strict types: numbers sent as strings ("5") and enum values
// in another case ("720P"). Booleans sent as "true"/"false" are accepted everywhere (multipart
// bodies carry nothing but strings).
struct Leniency {
  bool numeric_strings = false;
  bool case_insensitive_enums = false;
};

// What one field accessor enforces, recorded while a FieldRecording is alive on the thread: the
// API documents are written from these, so their ranges and defaults are the parser's own.
struct FieldRule {
  enum class Type { kString, kInteger, kBoolean, kEnum, kUrl, kUrlArray, kUrlOrUrlArray };
  std::string name;  // with the Fields' prefix ("input.duration")
  Type type = Type::kString;
  bool required = false;
  std::optional<int64_t> min, max;  // value range, string length or array size
  std::optional<json> default_value;
  std::vector<std::string> allowed;  // kEnum
  std::optional<int64_t> truncated_at;  // strings cut to this many characters instead of refused
  std::vector<std::string> aliases;     // other names the parser takes for it (Pick)
  bool https_only = false;              // kUrl
};

// Records every rule the Fields accessors on this thread enforce while it lives, once per field
// (the first rule; later ones add aliases).
class FieldRecording {
 public:
  FieldRecording();
  ~FieldRecording();
  FieldRecording(const FieldRecording&) = delete;
  FieldRecording& operator=(const FieldRecording&) = delete;
  const std::vector<FieldRule>& rules() const { return rules_; }
  void Add(FieldRule rule);
  // names: a field's names, the canonical one first (Fields::Pick).
  void AddAliases(const std::vector<std::string>& names);
  // The recording alive on this thread, if any.
  static FieldRecording* Current();

 private:
  std::vector<FieldRule> rules_;
  std::vector<std::vector<std::string>> alias_groups_;  // canonical name first
  FieldRecording* outer_;
};

class Fields {
 public:
  // prefix is prepended to names in messages ("input.").
  Fields(const json& object, std::string prefix = {}, Leniency leniency = {})
      : obj_(object), prefix_(std::move(prefix)), leniency_(leniency) {}

  bool Has(std::string_view name) const;  // present and not null
  std::string Name(std::string_view name) const { return prefix_ + std::string(name); }

  Result<std::string> RequiredString(std::string_view name, size_t min_chars, size_t max_chars) const;
  Result<std::string> StringOr(std::string_view name, std::string fallback, size_t max_chars) const;
  // Longer values are cut to max_chars instead of refused (EvoLink's prompt rule).
  Result<std::string> TruncatedString(std::string_view name, std::string fallback, size_t max_chars,
                                      bool required) const;
  Result<std::optional<int64_t>> OptionalInt(std::string_view name, int64_t min, int64_t max) const;
  Result<int64_t> IntOr(std::string_view name, int64_t fallback, int64_t min, int64_t max) const;
  Result<std::optional<bool>> OptionalBool(std::string_view name) const;
  Result<std::string> EnumOr(std::string_view name, std::string fallback,
                             std::initializer_list<std::string_view> allowed) const;
  Result<std::optional<std::string>> OptionalEnum(std::string_view name,
                                                  std::initializer_list<std::string_view> allowed) const;
  // Array of URLs with min..max elements; absent (or null) gives an empty list.
  Result<std::vector<std::string>> UrlArray(std::string_view name, size_t min, size_t max) const;
  // Array of URLs as UrlArray, or one URL as a bare string (a one-element list).
  Result<std::vector<std::string>> UrlList(std::string_view name, size_t min, size_t max) const;
  Result<std::optional<std::string>> OptionalUrl(std::string_view name) const;
  // Where the task is delivered when done. The seeds' rule: https only, at most 2048
  // characters (internal addresses are refused by the outbound guard).
  Result<std::optional<std::string>> OptionalCallbackUrl(std::string_view name) const;
  Result<std::string> RequiredUrl(std::string_view name) const;

  // Of a field's names (the canonical one first, then its aliases), the one the body uses; ""
  // when none. Two of them with different values are refused naming both.
  Result<std::string> Pick(std::initializer_list<std::string_view> names) const;

 private:
  const json* Find(std::string_view name) const;
  Error Invalid(std::string_view name, const std::string& rule) const;
  // Records the rule of a public accessor (not of the accessors it calls in turn).
  class Note;

  const json& obj_;
  std::string prefix_;
  Leniency leniency_;
};

}  // namespace wanserve::api::dialects
