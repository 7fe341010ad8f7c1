#include "api/dialects/fields.h"

#include <fmt/format.h>

#include <boost/url/parse.hpp>
#include <algorithm>
#include <charconv>
#include <cmath>

#include "api/json_limits.h"
#include "common/text.h"

namespace wanserve::api::dialects {

Result<json> ParseJsonObject(const std::string& body) {
  RETURN_IF_ERROR(CheckJsonShape(body));
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return MakeError(ErrorCode::kInvalidInput, "request body is not valid JSON (or not UTF-8)", "body");
  }
  if (!j.is_object()) return MakeError(ErrorCode::kInvalidInput, "request body must be a JSON object", "body");
  return j;
}

Result<json> ParseJsonRequest(const HttpRequest& req) {
  RETURN_IF_ERROR(CheckJsonContentType(req.Header("content-type").value_or("")));
  return ParseJsonObject(req.body);
}

namespace {

bool FindPath(const json& node, const std::string& value, const std::string& here, std::string& out) {
  if (node.is_string()) {
    if (node.get_ref<const std::string&>() != value) return false;
    out = here;
    return true;
  }
  if (node.is_object()) {
    for (const auto& [key, child] : node.items()) {
      if (FindPath(child, value, here.empty() ? key : here + "." + key, out)) return true;
    }
  } else if (node.is_array()) {
    for (size_t i = 0; i < node.size(); ++i) {
      if (FindPath(node[i], value, fmt::format("{}[{}]", here, i), out)) return true;
    }
  }
  return false;
}

}  // namespace

std::string PathOf(const json& root, const std::string& value) {
  std::string out;
  return FindPath(root, value, "", out) ? out : "body";
}

Status CheckUrl(const std::string& url, const std::string& field, bool https_only, size_t max_length) {
  if (url.size() > max_length) {
    return MakeError(ErrorCode::kInvalidInput,
                     fmt::format("{}: URL must be at most {} characters", field, max_length), field);
  }
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) {
    return MakeError(ErrorCode::kInvalidInput, fmt::format("{}: not a valid absolute URL", field), field);
  }
  const auto scheme = parsed->scheme_id();
  const bool https = scheme == boost::urls::scheme::https;
  if (!https && (https_only || scheme != boost::urls::scheme::http)) {
    return MakeError(ErrorCode::kInvalidInput,
                     fmt::format("{}: URL scheme must be {}", field, https_only ? "https" : "http or https"),
                     field);
  }
  if (!parsed->has_authority() || parsed->encoded_host().empty()) {
    return MakeError(ErrorCode::kInvalidInput, fmt::format("{}: URL has no host", field), field);
  }
  return Status::Ok();
}

namespace {

thread_local FieldRecording* tl_recording = nullptr;
thread_local int tl_accessor_depth = 0;

}  // namespace

FieldRecording::FieldRecording() : outer_(tl_recording) { tl_recording = this; }
FieldRecording* FieldRecording::Current() { return tl_recording; }
FieldRecording::~FieldRecording() { tl_recording = outer_; }

void FieldRecording::Add(FieldRule rule) {
  // A field read under an alias is documented under its canonical name.
  for (const auto& group : alias_groups_) {
    if (std::find(group.begin(), group.end(), rule.name) != group.end()) {
      rule.name = group.front();
      rule.aliases.assign(group.begin() + 1, group.end());
    }
  }
  for (const auto& r : rules_) {
    if (r.name == rule.name) return;
  }
  rules_.push_back(std::move(rule));
}

void FieldRecording::AddAliases(const std::vector<std::string>& names) {
  if (names.size() > 1) alias_groups_.push_back(names);
}

// Scope of one public accessor: the outermost one on the thread records its rule.
class Fields::Note {
 public:
  Note(const Fields& f, std::string_view name, FieldRule::Type type) {
    if (tl_accessor_depth++ == 0 && tl_recording) {
      rule_.emplace();
      rule_->name = f.Name(name);
      rule_->type = type;
    }
  }
  ~Note() {
    --tl_accessor_depth;
    if (rule_ && tl_recording) tl_recording->Add(std::move(*rule_));
  }
  FieldRule* operator->() { return rule_ ? &*rule_ : &ignored_; }

 private:
  std::optional<FieldRule> rule_;
  FieldRule ignored_;
};

const json* Fields::Find(std::string_view name) const {
  auto it = obj_.find(name);
  if (it == obj_.end() || it->is_null()) return nullptr;
  return &*it;
}

bool Fields::Has(std::string_view name) const { return Find(name) != nullptr; }

Error Fields::Invalid(std::string_view name, const std::string& rule) const {
  return MakeError(ErrorCode::kInvalidInput, fmt::format("{}: {}", Name(name), rule), Name(name));
}

Result<std::string> Fields::RequiredString(std::string_view name, size_t min_chars,
                                           size_t max_chars) const {
  Note note(*this, name, FieldRule::Type::kString);
  note->required = true;
  note->min = static_cast<int64_t>(min_chars);
  note->max = static_cast<int64_t>(max_chars);
  const json* v = Find(name);
  if (!v) return Invalid(name, "is required");
  if (!v->is_string()) return Invalid(name, "must be a string");
  const auto& s = v->get_ref<const std::string&>();
  auto len = Utf8Length(s);
  if (!len) return Invalid(name, "must be valid UTF-8");
  if (*len < min_chars || *len > max_chars) {
    return Invalid(name, fmt::format("must be {}-{} characters (got {})", min_chars, max_chars, *len));
  }
  return s;
}

Result<std::string> Fields::StringOr(std::string_view name, std::string fallback,
                                     size_t max_chars) const {
  Note note(*this, name, FieldRule::Type::kString);
  note->max = static_cast<int64_t>(max_chars);
  note->default_value = fallback;
  if (!Has(name)) return fallback;
  return RequiredString(name, 0, max_chars);
}

Result<std::string> Fields::TruncatedString(std::string_view name, std::string fallback,
                                            size_t max_chars, bool required) const {
  Note note(*this, name, FieldRule::Type::kString);
  note->required = required;
  note->min = required ? 1 : 0;
  note->truncated_at = static_cast<int64_t>(max_chars);
  if (!required) note->default_value = fallback;
  const json* v = Find(name);
  if (!v) {
    if (required) return Invalid(name, "is required");
    return fallback;
  }
  if (!v->is_string()) return Invalid(name, "must be a string");
  const auto& s = v->get_ref<const std::string&>();
  if (!Utf8Length(s)) return Invalid(name, "must be valid UTF-8");
  if (required && s.empty()) return Invalid(name, "must not be empty");
  return Utf8Truncate(s, max_chars);
}

Result<std::optional<int64_t>> Fields::OptionalInt(std::string_view name, int64_t min,
                                                   int64_t max) const {
  Note note(*this, name, FieldRule::Type::kInteger);
  note->min = min;
  note->max = max;
  const json* v = Find(name);
  if (!v) return std::optional<int64_t>();
  const std::string rule = fmt::format("must be an integer from {} to {}", min, max);
  int64_t value;
  if (v->is_string() && leniency_.numeric_strings) {
    const auto& text = v->get_ref<const std::string&>();
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
      return Invalid(name, rule + " (got " + v->dump() + ")");
    }
  } else if (v->is_number_integer()) {
    if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
      return Invalid(name, rule + " (got " + v->dump() + ")");
    }
    value = v->get<int64_t>();
  } else if (v->is_number_float()) {
    const double d = v->get<double>();
    if (!std::isfinite(d) || d != std::floor(d) || d < -9.2e18 || d > 9.2e18) {
      return Invalid(name, rule + " (got " + v->dump() + ")");
    }
    value = static_cast<int64_t>(d);
  } else {
    return Invalid(name, rule);
  }
  if (value < min || value > max) return Invalid(name, fmt::format("{} (got {})", rule, value));
  return std::optional<int64_t>(value);
}

Result<int64_t> Fields::IntOr(std::string_view name, int64_t fallback, int64_t min, int64_t max) const {
  Note note(*this, name, FieldRule::Type::kInteger);
  note->min = min;
  note->max = max;
  note->default_value = fallback;
  ASSIGN_OR_RETURN(auto v, OptionalInt(name, min, max));
  return v.value_or(fallback);
}

Result<std::optional<bool>> Fields::OptionalBool(std::string_view name) const {
  Note note(*this, name, FieldRule::Type::kBoolean);
  const json* v = Find(name);
  if (!v) return std::optional<bool>();
  if (v->is_string() && (*v == "true" || *v == "false")) return std::optional<bool>(*v == "true");
  if (!v->is_boolean()) return Invalid(name, "must be true or false");
  return std::optional<bool>(v->get<bool>());
}

Result<std::optional<std::string>> Fields::OptionalEnum(
    std::string_view name, std::initializer_list<std::string_view> allowed) const {
  Note note(*this, name, FieldRule::Type::kEnum);
  note->allowed.assign(allowed.begin(), allowed.end());
  const json* v = Find(name);
  if (!v) return std::optional<std::string>();
  std::string list;
  for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
  if (v->is_string()) {
    const auto& s = v->get_ref<const std::string&>();
    for (auto a : allowed) {
      if (s == a || (leniency_.case_insensitive_enums && EqualsIgnoringCase(s, a))) {
        return std::optional<std::string>(std::string(a));
      }
    }
  }
  return Invalid(name, fmt::format("must be one of {}", list));
}

Result<std::string> Fields::EnumOr(std::string_view name, std::string fallback,
                                   std::initializer_list<std::string_view> allowed) const {
  Note note(*this, name, FieldRule::Type::kEnum);
  note->allowed.assign(allowed.begin(), allowed.end());
  note->default_value = fallback;
  ASSIGN_OR_RETURN(auto v, OptionalEnum(name, allowed));
  return v.value_or(std::move(fallback));
}

Result<std::vector<std::string>> Fields::UrlArray(std::string_view name, size_t min, size_t max) const {
  Note note(*this, name, FieldRule::Type::kUrlArray);
  note->required = min > 0;
  note->min = static_cast<int64_t>(min);
  note->max = static_cast<int64_t>(max);
  const json* v = Find(name);
  std::vector<std::string> out;
  if (!v) {
    if (min > 0) return Invalid(name, "is required");
    return out;
  }
  if (!v->is_array()) return Invalid(name, "must be an array of URLs");
  if (v->size() < min || v->size() > max) {
    return Invalid(name, fmt::format("must have {}-{} elements (got {})", min, max, v->size()));
  }
  for (size_t i = 0; i < v->size(); ++i) {
    const auto& e = (*v)[i];
    const std::string field = fmt::format("{}[{}]", Name(name), i);
    if (!e.is_string()) {
      return MakeError(ErrorCode::kInvalidInput, field + ": must be a URL string", field);
    }
    RETURN_IF_ERROR(CheckUrl(e.get<std::string>(), field));
    out.push_back(e.get<std::string>());
  }
  return out;
}

Result<std::vector<std::string>> Fields::UrlList(std::string_view name, size_t min, size_t max) const {
  Note note(*this, name, FieldRule::Type::kUrlOrUrlArray);
  note->required = min > 0;
  note->min = static_cast<int64_t>(min);
  note->max = static_cast<int64_t>(max);
  const json* v = Find(name);
  if (!v || !v->is_string()) return UrlArray(name, min, max);
  if (min > 1 || max < 1) return Invalid(name, fmt::format("must have {}-{} elements (got 1)", min, max));
  RETURN_IF_ERROR(CheckUrl(v->get<std::string>(), Name(name)));
  return std::vector<std::string>{v->get<std::string>()};
}

Result<std::string> Fields::Pick(std::initializer_list<std::string_view> names) const {
  if (tl_recording) {
    std::vector<std::string> all;
    for (auto name : names) all.push_back(Name(name));
    tl_recording->AddAliases(all);
  }
  std::string_view chosen;
  for (auto name : names) {
    const json* v = Find(name);
    if (!v) continue;
    if (chosen.empty()) {
      chosen = name;
    } else if (*v != *Find(chosen)) {
      return Invalid(chosen, fmt::format("and {} disagree; send one of them", Name(name)));
    }
  }
  return std::string(chosen);
}

Result<std::optional<std::string>> Fields::OptionalUrl(std::string_view name) const {
  Note note(*this, name, FieldRule::Type::kUrl);
  const json* v = Find(name);
  if (!v) return std::optional<std::string>();
  if (!v->is_string()) return Invalid(name, "must be a URL string");
  RETURN_IF_ERROR(CheckUrl(v->get<std::string>(), Name(name)));
  return std::optional<std::string>(v->get<std::string>());
}

Result<std::optional<std::string>> Fields::OptionalCallbackUrl(std::string_view name) const {
  Note note(*this, name, FieldRule::Type::kUrl);
  note->max = 2048;
  note->https_only = true;
  const json* v = Find(name);
  if (!v) return std::optional<std::string>();
  if (!v->is_string()) return Invalid(name, "must be a URL string");
  RETURN_IF_ERROR(CheckUrl(v->get<std::string>(), Name(name), /*https_only=*/true, /*max_length=*/2048));
  return std::optional<std::string>(v->get<std::string>());
}

Result<std::string> Fields::RequiredUrl(std::string_view name) const {
  Note note(*this, name, FieldRule::Type::kUrl);
  note->required = true;
  ASSIGN_OR_RETURN(auto v, OptionalUrl(name));
  if (!v) return Invalid(name, "is required");
  return *v;
}

}  // namespace wanserve::api::dialects
