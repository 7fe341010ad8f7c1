#include "objectstore/s3_xml.h"

#include <libxml/parser.h>
#include <libxml/tree.h>

#include <cstdio>
#include <ctime>
#include <memory>

namespace wanserve::objectstore {
namespace {

struct DocFree {
  void operator()(xmlDoc* doc) const { xmlFreeDoc(doc); }
};
using Doc = std::unique_ptr<xmlDoc, DocFree>;

Doc Parse(std::string_view xml) {
  return Doc(xmlReadMemory(xml.data(), static_cast<int>(xml.size()), nullptr, nullptr,
                           XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING));
}

bool Named(const xmlNode* node, const char* name) {
  return node->type == XML_ELEMENT_NODE && xmlStrcmp(node->name, reinterpret_cast<const xmlChar*>(name)) == 0;
}

std::string Text(const xmlNode* node) {
  xmlChar* content = xmlNodeGetContent(node);
  std::string out = content ? reinterpret_cast<const char*>(content) : "";
  xmlFree(content);
  return out;
}

// The text of the first child element of parent with this name; empty when none.
std::string ChildText(const xmlNode* parent, const char* name) {
  for (const xmlNode* c = parent->children; c; c = c->next) {
    if (Named(c, name)) return Text(c);
  }
  return {};
}

}  // namespace

std::optional<int64_t> ParseIsoTimeMs(std::string_view text) {
  std::tm tm{};
  int millis = 0;
  const std::string s(text);
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                  &tm.tm_sec) != 6) {
    return std::nullopt;
  }
  if (s.size() > 20 && s[19] == '.') std::sscanf(s.c_str() + 20, "%3d", &millis);
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<int64_t>(timegm(&tm)) * 1000 + millis;
}

Result<ListPage> ParseListObjects(std::string_view xml) {
  Doc doc = Parse(xml);
  const xmlNode* root = doc ? xmlDocGetRootElement(doc.get()) : nullptr;
  if (!root || !Named(root, "ListBucketResult")) {
    return MakeError(ErrorCode::kUnavailable, "the object store's listing is not a ListBucketResult");
  }
  ListPage page;
  page.truncated = ChildText(root, "IsTruncated") == "true";
  for (const xmlNode* c = root->children; c; c = c->next) {
    if (!Named(c, "Contents")) continue;
    ListedObject o;
    o.key = ChildText(c, "Key");
    o.bytes = std::strtoll(ChildText(c, "Size").c_str(), nullptr, 10);
    o.modified_ms = ParseIsoTimeMs(ChildText(c, "LastModified")).value_or(0);
    page.objects.push_back(std::move(o));
  }
  return page;
}

Result<std::string> ParseUploadId(std::string_view xml) {
  Doc doc = Parse(xml);
  const xmlNode* root = doc ? xmlDocGetRootElement(doc.get()) : nullptr;
  std::string id = root ? ChildText(root, "UploadId") : "";
  if (id.empty()) return MakeError(ErrorCode::kUnavailable, "the object store named no upload id");
  return id;
}

std::string ParseErrorSummary(std::string_view xml) {
  Doc doc = Parse(xml);
  const xmlNode* root = doc ? xmlDocGetRootElement(doc.get()) : nullptr;
  if (!root || !Named(root, "Error")) return {};
  return ChildText(root, "Code") + ": " + ChildText(root, "Message");
}

}  // namespace wanserve::objectstore
