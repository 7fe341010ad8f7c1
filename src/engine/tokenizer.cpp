#include "engine/tokenizer.h"

#include <cctype>
#include <filesystem>
#include <mutex>

#include "engine/module_loader.h"
#include "engine/tokenizer_api.h"

namespace wanserve::engine {
namespace {

void AppendUtf8(uint32_t code, std::string& out) {
  if (code < 0x80) {
    out += static_cast<char>(code);
  } else if (code < 0x800) {
    out += static_cast<char>(0xC0 | (code >> 6));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else if (code < 0x10000) {
    out += static_cast<char>(0xE0 | (code >> 12));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code >> 18));
    out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  }
}

// One entity at text[pos] ('&'), decoded into out; returns the characters consumed, 0 if none.
size_t DecodeEntity(const std::string& text, size_t pos, std::string& out) {
  const size_t semi = text.find(';', pos);
  if (semi == std::string::npos || semi - pos > 10) return 0;
  const std::string name = text.substr(pos + 1, semi - pos - 1);
  static const std::pair<const char*, const char*> kNamed[] = {
      {"amp", "&"}, {"lt", "<"}, {"gt", ">"}, {"quot", "\""}, {"apos", "'"}, {"nbsp", "\xC2\xA0"}};
  for (const auto& [entity, value] : kNamed) {
    if (name == entity) {
      out += value;
      return semi - pos + 1;
    }
  }
  if (name.size() < 2 || name[0] != '#') return 0;
  const bool hex = name[1] == 'x' || name[1] == 'X';
  const std::string digits = name.substr(hex ? 2 : 1);
  if (digits.empty()) return 0;
  uint32_t code = 0;
  for (char c : digits) {
    if (hex ? !std::isxdigit(static_cast<unsigned char>(c)) : !std::isdigit(static_cast<unsigned char>(c))) return 0;
    code = code * (hex ? 16 : 10) + static_cast<uint32_t>(std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : (std::tolower(c) - 'a' + 10));
    if (code > 0x10FFFF) return 0;
  }
  AppendUtf8(code, out);
  return semi - pos + 1;
}

std::string Unescape(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size();) {
    if (text[i] == '&') {
      if (size_t used = DecodeEntity(text, i, out); used > 0) {
        i += used;
        continue;
      }
    }
    out += text[i++];
  }
  return out;
}

// Bytes of the whitespace character at text[pos], 0 if there is none. Python's \s, which the
// official clean-up uses, also matches Unicode spaces such as U+3000 in Chinese prompts.
size_t WhitespaceAt(const std::string& text, size_t pos) {
  const auto byte = [&](size_t i) { return i < text.size() ? static_cast<unsigned char>(text[i]) : 0u; };
  const unsigned b0 = byte(pos);
  if (b0 < 0x80) return std::isspace(static_cast<int>(b0)) || (b0 >= 0x1C && b0 <= 0x1F) ? 1 : 0;
  if (b0 == 0xC2 && (byte(pos + 1) == 0x85 || byte(pos + 1) == 0xA0)) return 2;
  if (b0 == 0xE1 && byte(pos + 1) == 0x9A && byte(pos + 2) == 0x80) return 3;  // U+1680
  if (b0 == 0xE2 && byte(pos + 1) == 0x80) {
    const unsigned b2 = byte(pos + 2);
    if (b2 <= 0x8A || b2 == 0xA8 || b2 == 0xA9 || b2 == 0xAF) return 3;  // U+2000..200A, 2028, 2029, 202F
  }
  if (b0 == 0xE2 && byte(pos + 1) == 0x81 && byte(pos + 2) == 0x9F) return 3;  // U+205F
  if (b0 == 0xE3 && byte(pos + 1) == 0x80 && byte(pos + 2) == 0x80) return 3;  // U+3000
  return 0;
}

Result<const TokenizerApi*> Api() {
  static std::mutex mutex;
  static const TokenizerApi* loaded = nullptr;
  std::lock_guard lock(mutex);
  if (loaded != nullptr) return loaded;
  ASSIGN_OR_RETURN(const void* table, OpenModule("libwanserve_tokenizer.so", "WANSERVE_TOKENIZER_LIBRARY",
                                                 "wanserve_tokenizer_api"));
  const auto* api = static_cast<const TokenizerApi*>(table);
  if (api->version != kTokenizerApiVersion) {
    return MakeError(ErrorCode::kUnavailable, "libwanserve_tokenizer.so was built for another wanserve version");
  }
  loaded = api;
  return loaded;
}

}  // namespace

std::string CleanPrompt(const std::string& text) {
  // Twice, as the official clean-up does, so doubly escaped prompts ("&amp;lt;") come out plain.
  const std::string plain = Unescape(Unescape(text));
  std::string out;
  bool pending_space = false;
  for (size_t i = 0; i < plain.size();) {
    if (size_t width = WhitespaceAt(plain, i); width > 0) {
      pending_space = !out.empty();
      i += width;
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += plain[i++];
  }
  return out;
}

Result<Tokenizer> Tokenizer::Load(const std::string& model_path) {
  if (!std::filesystem::exists(model_path)) {
    return MakeError(ErrorCode::kNotFound, model_path + ": no such tokenizer model");
  }
  ASSIGN_OR_RETURN(const TokenizerApi* api, Api());
  Tokenizer tokenizer;
  ASSIGN_OR_RETURN(tokenizer.model_, api->load(model_path));
  // UMT5's model defines </s> = 1 and <pad> = 0; a model without them falls back to those ids.
  if (tokenizer.model_->eos_id() >= 0) tokenizer.eos_id_ = tokenizer.model_->eos_id();
  if (tokenizer.model_->pad_id() >= 0) tokenizer.pad_id_ = tokenizer.model_->pad_id();
  return tokenizer;
}

Tokenizer Tokenizer::Bytes(int vocab) {
  Tokenizer tokenizer;
  tokenizer.vocab_ = vocab;
  return tokenizer;
}

TokenizedText Tokenizer::Encode(const std::string& text, int text_len) const {
  const std::string clean = CleanPrompt(text);
  std::vector<int> pieces;
  if (model_ != nullptr) {
    pieces = model_->Encode(clean);
  } else {
    for (unsigned char byte : clean) pieces.push_back(3 + byte % std::max(vocab_ - 3, 1));
  }
  TokenizedText out;
  const size_t keep = std::min(pieces.size(), static_cast<size_t>(std::max(text_len - 1, 0)));
  out.ids.assign(pieces.begin(), pieces.begin() + static_cast<std::ptrdiff_t>(keep));
  if (text_len > 0) out.ids.push_back(eos_id_);
  out.length = static_cast<int>(out.ids.size());
  out.mask.assign(out.ids.size(), 1);
  out.ids.resize(static_cast<size_t>(text_len), pad_id_);
  out.mask.resize(static_cast<size_t>(text_len), 0);
  return out;
}

}  // namespace wanserve::engine
