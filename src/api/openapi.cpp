#include "api/openapi.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <mutex>

namespace wanserve::api {
namespace {

using nlohmann::json;
using dialects::FieldRule;

json UrlSchema() { return {{"type", "string"}, {"format", "uri"}, {"maxLength", 4096}}; }

json PropertySchema(const FieldRule& rule) {
  json s;
  switch (rule.type) {
    case FieldRule::Type::kString:
      s = {{"type", "string"}};
      if (rule.min && *rule.min > 0) s["minLength"] = *rule.min;
      if (rule.max) s["maxLength"] = *rule.max;
      if (rule.truncated_at) s["description"] = fmt::format("longer values are cut to {} characters", *rule.truncated_at);
      break;
    case FieldRule::Type::kInteger:
      s = {{"type", "integer"}};
      if (rule.min) s["minimum"] = *rule.min;
      if (rule.max) s["maximum"] = *rule.max;
      break;
    case FieldRule::Type::kBoolean:
      s = {{"type", "boolean"}};
      break;
    case FieldRule::Type::kEnum:
      s = {{"type", "string"}, {"enum", rule.allowed}};
      break;
    case FieldRule::Type::kUrl:
      s = UrlSchema();
      if (rule.max) s["maxLength"] = *rule.max;
      if (rule.https_only) s["pattern"] = "^https://";
      break;
    case FieldRule::Type::kUrlArray:
    case FieldRule::Type::kUrlOrUrlArray: {
      json array = {{"type", "array"}, {"items", UrlSchema()}};
      if (rule.min && *rule.min > 0) array["minItems"] = *rule.min;
      if (rule.max) array["maxItems"] = *rule.max;
      s = rule.type == FieldRule::Type::kUrlArray ? array : json{{"oneOf", {UrlSchema(), array}}};
      break;
    }
  }
  if (rule.default_value && !(rule.type == FieldRule::Type::kString && *rule.default_value == "")) {
    s["default"] = *rule.default_value;
  }
  return s;
}

// The object schema at `path` inside root ("" is root itself), made when missing.
json& ObjectAt(json& root, const std::string& path) {
  json* node = &root;
  size_t start = 0;
  while (start < path.size()) {
    const size_t dot = path.find('.', start);
    const std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    json& child = (*node)["properties"][part];
    if (!child.contains("type")) child = {{"type", "object"}, {"properties", json::object()}};
    node = &child;
    start = dot == std::string::npos ? path.size() : dot + 1;
  }
  return *node;
}

}  // namespace

json SchemaOf(const std::vector<FieldRule>& rules) {
  json root = {{"type", "object"}, {"properties", json::object()}};
  for (const FieldRule& rule : rules) {
    const auto dot = rule.name.rfind('.');
    json& parent = ObjectAt(root, dot == std::string::npos ? "" : rule.name.substr(0, dot));
    const std::string leaf = dot == std::string::npos ? rule.name : rule.name.substr(dot + 1);
    parent["properties"][leaf] = PropertySchema(rule);
    if (rule.required) parent["required"].push_back(leaf);
    for (const auto& alias : rule.aliases) {
      json alias_schema = PropertySchema(rule);
      alias_schema["description"] = fmt::format("another name for {}", leaf);
      parent["properties"][alias.substr(alias.rfind('.') + 1)] = alias_schema;
    }
  }
  return root;
}

Result<json> RequestSchema(const std::vector<BodyVariant>& variants) {
  json shapes = json::array();
  for (const BodyVariant& v : variants) {
    dialects::FieldRecording recording;
    std::vector<json> bodies = {v.example};
    bodies.insert(bodies.end(), v.more_examples.begin(), v.more_examples.end());
    for (const json& body : bodies) {
      if (Status parsed = v.parse(body); !parsed.ok()) {
        return MakeError(ErrorCode::kInternal,
                         fmt::format("an example of {} does not parse: {}", v.title, parsed.error().message));
      }
    }
    json schema = SchemaOf(recording.rules());
    for (const auto& [name, property] : v.properties.items()) {
      const auto dot = name.rfind('.');
      json& parent = ObjectAt(schema, dot == std::string::npos ? "" : name.substr(0, dot));
      parent["properties"][dot == std::string::npos ? name : name.substr(dot + 1)] = property;
    }
    for (const auto& name : v.also_required) schema["required"].push_back(name);
    schema["title"] = v.title;
    if (!v.description.empty()) schema["description"] = v.description;
    schema["examples"] = json::array({v.example});
    shapes.push_back(std::move(schema));
  }
  if (shapes.size() == 1) return shapes[0];
  return json{{"oneOf", std::move(shapes)}};
}

json NewDocument(const DocumentInfo& info) {
  return {{"openapi", "3.1.0"},
          {"info", {{"title", info.title}, {"version", "1"}, {"description", info.description}}},
          {"servers", json::array({{{"url", info.server_url}}})},
          {"security", json::array({{{"bearer", json::array()}}})},
          {"paths", json::object()},
          {"components",
           {{"securitySchemes",
             {{"bearer", {{"type", "http"}, {"scheme", "bearer"}, {"description", "an API key: ws_…"}}}}},
            {"schemas", json::object()}}}};
}

json Ref(const std::string& schema_name) { return {{"$ref", "#/components/schemas/" + schema_name}}; }

json PathParameter(const std::string& name) {
  return {{"name", name}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}};
}

json IdempotencyKeyParameter() {
  return {{"name", "Idempotency-Key"},
          {"in", "header"},
          {"required", false},
          {"schema", {{"type", "string"}, {"maxLength", 255}}},
          {"description", "the same key and body within 24 h return the same task, charged once"}};
}

Route DocumentRoute(const std::string& dialect, Result<json> (*make)(const std::string&), const std::string& server_url,
                    ErrorRenderer render_error) {
  return {"GET", "/openapi/" + dialect + ".json", Access::kPublic,
          [make, &server_url, render_error](const HttpRequest&, const RequestContext&) {
            auto doc = make(server_url);
            if (!doc.ok()) return render_error(doc.error());
            return HttpResponse::Json(200, doc->dump(2));
          },
          render_error};
}

json JsonBody(json schema, json example) {
  json media = {{"schema", std::move(schema)}};
  if (!example.is_null()) media["example"] = std::move(example);
  return {{"required", true}, {"content", {{"application/json", std::move(media)}}}};
}

namespace {

// The shapes that describe this body: those whose model is the body's, else all of them.
std::vector<const json*> ShapesFor(const json& schema, const json& body) {
  std::vector<const json*> all, matching;
  if (schema.contains("oneOf")) {
    for (const auto& shape : schema["oneOf"]) all.push_back(&shape);
  } else {
    all.push_back(&schema);
  }
  const std::string model = body.is_object() && body.contains("model") && body["model"].is_string() ? body["model"] : "";
  for (const json* shape : all) {
    if (!shape->contains("properties") || !(*shape)["properties"].contains("model")) continue;
    const json& m = (*shape)["properties"]["model"];
    const bool listed = m.contains("enum") && std::find(m["enum"].begin(), m["enum"].end(), model) != m["enum"].end();
    if (listed || m.value("const", "") == model) matching.push_back(shape);
  }
  return matching.empty() ? all : matching;
}

void CollectUndeclared(const json& value, const std::vector<const json*>& schemas, const std::string& prefix,
                       std::vector<std::string>& out) {
  for (const auto& [key, item] : value.items()) {
    std::vector<const json*> declared;
    bool open = false;  // some shape takes any key below this one
    for (const json* s : schemas) {
      if (!s->contains("properties") || !(*s)["properties"].contains(key)) continue;
      const json& sub = (*s)["properties"][key];
      if (sub.contains("properties")) {
        declared.push_back(&sub);
      } else {
        open = true;
      }
    }
    if (declared.empty() && !open) {
      out.push_back(prefix + key);
    } else if (!open && item.is_object()) {
      CollectUndeclared(item, declared, prefix + key + ".", out);
    }
  }
}

}  // namespace

std::vector<std::string> UndeclaredFields(const json& document, const std::string& path, const json& body) {
  std::vector<std::string> out;
  if (!body.is_object() || !document.contains("paths") || !document["paths"].contains(path)) return out;
  const json& operation = document["paths"][path];
  if (!operation.contains("post") || !operation["post"].contains("requestBody")) return out;
  const json& content = operation["post"]["requestBody"]["content"];
  if (!content.contains("application/json")) return out;
  CollectUndeclared(body, ShapesFor(content["application/json"]["schema"], body), "", out);
  return out;
}

std::vector<std::string> WarnUndeclaredFields(Result<json> (*document)(const std::string&), const std::string& path,
                                              const json& body, const std::string& task_id) {
  // Made once per dialect: the document does not change while the server runs.
  static std::mutex mutex;
  static std::map<Result<json> (*)(const std::string&), json> documents;
  const json* doc = nullptr;
  {
    std::lock_guard lock(mutex);
    auto [it, added] = documents.try_emplace(document);
    if (added) {
      auto made = document("");
      it->second = made.ok() ? *made : json::object();
    }
    doc = &it->second;
  }
  auto undeclared = UndeclaredFields(*doc, path, body);
  if (!undeclared.empty()) {
    spdlog::warn("task={} ignored fields its dialect does not have here: {}", task_id, fmt::join(undeclared, ", "));
  }
  return undeclared;
}

json FormBody(json fields, std::vector<std::string> required) {
  json schema = {{"type", "object"}, {"properties", std::move(fields)}};
  if (!required.empty()) schema["required"] = std::move(required);
  return {{"required", true}, {"content", {{"multipart/form-data", {{"schema", std::move(schema)}}}}}};
}

json BinaryPart(const std::string& description) {
  return {{"type", "string"}, {"contentMediaType", "application/octet-stream"}, {"description", description}};
}

json StringField(const std::string& description) { return {{"type", "string"}, {"description", description}}; }

json JsonAnswer(const std::string& description, json schema) {
  return {{"description", description}, {"content", {{"application/json", {{"schema", std::move(schema)}}}}}};
}

}  // namespace wanserve::api
