#pragma once
// OpenAPI 3.1 documents of the dialects, written from the parsers themselves: each request
// body's schema is what the dialect's Fields accessors enforce while they parse a valid example
// of it (FieldRecording), so a document's ranges, defaults and enums are the server's own. What
// no accessor expresses (a field parsed by hand, a rule across fields) is added by hand beside
// the example, and said in its description.
#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <vector>

#include "api/dialects/fields.h"
#include "api/router.h"
#include "common/error.h"

namespace wanserve::api {

// The media URLs of the documents' examples.
namespace examples {
inline constexpr const char* kPicture = "https://example.com/first.png";
inline constexpr const char* kLast = "https://example.com/last.png";
inline constexpr const char* kClip = "https://example.com/clip.mp4";
inline constexpr const char* kVoice = "https://example.com/voice.mp3";
inline constexpr const char* kHook = "https://example.com/hook";
}  // namespace examples

// A BodyVariant's parse function from a dialect parser (whatever it parses to).
template <auto Parse>
Status Parses(const nlohmann::json& body) {
  auto parsed = Parse(body);
  return parsed.ok() ? Status::Ok() : Status(parsed.error());
}

// The JSON Schema of an object whose fields follow the rules ("a.b" names nest).
nlohmann::json SchemaOf(const std::vector<dialects::FieldRule>& rules);

// One shape of a request body: an example the parser accepts, and the parser.
struct BodyVariant {
  std::string title;                 // e.g. "wan2.7-text-to-video"
  nlohmann::json example;            // a valid body
  std::function<Status(const nlohmann::json&)> parse;
  // Hand-written property schemas that replace or add to the recorded ones ("model": its ids;
  // "input.resolution": a narrower enum a rule across fields makes).
  nlohmann::json properties = nlohmann::json::object();
  std::string description = {};      // rules across fields, in words
  // Further valid bodies that reach the optional fields the example leaves out (a parser reads
  // some only when they are sent); their rules join the example's.
  std::vector<nlohmann::json> more_examples = {};
  // Fields this shape requires beyond what its parser requires of every body (what tells it
  // from the endpoint's other shapes, e.g. "feature").
  std::vector<std::string> also_required = {};
};

// The body schema of the variants (oneOf when there are several). kInternal when an example
// does not parse: the document would describe a body the server refuses.
Result<nlohmann::json> RequestSchema(const std::vector<BodyVariant>& variants);

// The parts every document shares.
struct DocumentInfo {
  std::string dialect;      // "unified"
  std::string title;
  std::string description;
  std::string server_url;   // the public base URL
};
nlohmann::json NewDocument(const DocumentInfo& info);

// A reference to a schema of the document's components.
nlohmann::json Ref(const std::string& schema_name);
// A required string path parameter.
nlohmann::json PathParameter(const std::string& name);
// The optional Idempotency-Key header of create operations.
nlohmann::json IdempotencyKeyParameter();

// GET /openapi/<dialect>.json: the document made for the server's public URL (server_url
// outlives the route), an error in the dialect's shape when an example no longer parses.
Route DocumentRoute(const std::string& dialect, Result<nlohmann::json> (*make)(const std::string&),
                    const std::string& server_url, ErrorRenderer render_error);

// The fields of a submitted body that no body shape of the document's POST `path` declares for
// the body's model, dotted ("resolution", "input.sizee"): the parser ignored them. Objects the
// document leaves open (maps such as voice bindings) take any key.
std::vector<std::string> UndeclaredFields(const nlohmann::json& document, const std::string& path,
                                          const nlohmann::json& body);
// The same against the dialect's own document (made once), logged as a warning naming the task.
std::vector<std::string> WarnUndeclaredFields(Result<nlohmann::json> (*document)(const std::string&),
                                              const std::string& path, const nlohmann::json& body,
                                              const std::string& task_id);

// A JSON request body and the answers of an operation.
nlohmann::json JsonBody(nlohmann::json schema, nlohmann::json example);
// A multipart/form-data request body: the named fields (a file part is BinaryPart()), of which
// `required` must be sent.
nlohmann::json FormBody(nlohmann::json fields, std::vector<std::string> required);
// The schema of a file's bytes (a form's file part, or a whole raw body).
nlohmann::json BinaryPart(const std::string& description);
// A string field with its other spellings, which the server takes as the same field.
nlohmann::json StringField(const std::string& description);
nlohmann::json JsonAnswer(const std::string& description, nlohmann::json schema);

}  // namespace wanserve::api
