#include "api/multipart.h"

#include <cctype>

#include "common/text.h"

namespace wanserve::api {
namespace {

Error Malformed(const std::string& why) {
  return MakeError(ErrorCode::kInvalidInput, "multipart body: " + why, "body");
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Parameters of a header value ("form-data; name=\"a\"; filename=b"), names lower-cased,
// quoted strings unquoted (a backslash escapes the next character).
std::vector<std::pair<std::string, std::string>> Parameters(std::string_view value) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t i = value.find(';');
  while (i != std::string_view::npos && i < value.size()) {
    ++i;
    const size_t eq = value.find('=', i);
    if (eq == std::string_view::npos) break;
    std::string name(Trim(value.substr(i, eq - i)));
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    size_t j = eq + 1;
    while (j < value.size() && value[j] == ' ') ++j;
    std::string v;
    if (j < value.size() && value[j] == '"') {
      for (++j; j < value.size() && value[j] != '"'; ++j) {
        if (value[j] == '\\' && j + 1 < value.size()) ++j;
        v.push_back(value[j]);
      }
      i = value.find(';', j);
    } else {
      const size_t end = value.find(';', j);
      v = std::string(Trim(value.substr(j, end == std::string_view::npos ? std::string_view::npos : end - j)));
      i = end;
    }
    out.emplace_back(std::move(name), std::move(v));
  }
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 5987 ext-value: charset'language'percent-encoded.
std::optional<std::string> DecodeExtValue(std::string_view v) {
  const size_t first = v.find('\'');
  const size_t second = first == std::string_view::npos ? first : v.find('\'', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  std::string out;
  for (size_t i = second + 1; i < v.size(); ++i) {
    if (v[i] == '%' && i + 2 < v.size() && HexValue(v[i + 1]) >= 0 && HexValue(v[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(v[i + 1]) * 16 + HexValue(v[i + 2])));
      i += 2;
    } else {
      out.push_back(v[i]);
    }
  }
  return out;
}

Result<FormPart> ParsePart(std::string_view headers, std::string_view data) {
  FormPart part;
  part.data = data;
  bool form_data = false;
  while (!headers.empty()) {
    const size_t eol = headers.find("\r\n");
    const std::string_view line = headers.substr(0, eol);
    headers = eol == std::string_view::npos ? std::string_view() : headers.substr(eol + 2);
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view name = Trim(line.substr(0, colon));
    const std::string_view value = Trim(line.substr(colon + 1));
    if (EqualsIgnoringCase(name, "content-type")) {
      part.content_type = std::string(value);
    } else if (EqualsIgnoringCase(name, "content-disposition")) {
      form_data = EqualsIgnoringCase(Trim(value.substr(0, value.find(';'))), "form-data");
      for (auto& [key, v] : Parameters(value)) {
        if (key == "name") part.name = v;
        else if (key == "filename" && !part.file_name) part.file_name = v;
        else if (key == "filename*") part.file_name = DecodeExtValue(v).value_or(v);
      }
    }
  }
  if (!form_data || part.name.empty()) return Malformed("a part has no Content-Disposition: form-data name");
  return part;
}

}  // namespace

bool IsMultipartFormData(std::string_view content_type) {
  return content_type.size() >= 19 && EqualsIgnoringCase(content_type.substr(0, 19), "multipart/form-data");
}

Result<std::vector<FormPart>> ParseMultipart(std::string_view content_type, std::string_view body) {
  if (!IsMultipartFormData(content_type)) return Malformed("the content type is not multipart/form-data");
  std::string boundary;
  for (auto& [key, v] : Parameters(content_type)) {
    if (key == "boundary") boundary = v;
  }
  if (boundary.empty() || boundary.size() > 200) return Malformed("the content type names no boundary");
  const std::string delimiter = "--" + boundary;
  // The first delimiter may open the body or follow a preamble's CRLF.
  size_t pos = body.starts_with(delimiter) ? 0 : body.find("\r\n" + delimiter);
  if (pos == std::string_view::npos) return Malformed("no part starts with the boundary");
  if (pos != 0) pos += 2;
  std::vector<FormPart> parts;
  const std::string next_delimiter = "\r\n" + delimiter;
  for (;;) {
    size_t at = pos + delimiter.size();
    if (body.substr(at, 2) == "--") return parts;  // the close delimiter
    // Transport padding, then the CRLF that ends the delimiter line.
    while (at < body.size() && (body[at] == ' ' || body[at] == '\t')) ++at;
    if (body.substr(at, 2) != "\r\n") return Malformed("a boundary line does not end with CRLF");
    at += 2;
    const size_t headers_end = body.substr(at).starts_with("\r\n") ? at : body.find("\r\n\r\n", at);
    if (headers_end == std::string_view::npos) return Malformed("a part's headers do not end");
    const size_t content = headers_end == at ? at + 2 : headers_end + 4;
    const size_t end = body.find(next_delimiter, content);
    if (end == std::string_view::npos) return Malformed("the body ends before its closing boundary");
    auto part = ParsePart(body.substr(at, headers_end - at), body.substr(content, end - content));
    if (!part.ok()) return part.error();
    parts.push_back(std::move(*part));
    pos = end + 2;
  }
}

}  // namespace wanserve::api
