#pragma once
// UMT5's tokenizer: the SentencePiece model shipped with the official text encoder
// (`google/umt5-xxl/spiece.model`), applied as the official pipeline does: the prompt is
// cleaned (HTML entities unescaped, runs of whitespace collapsed, ends trimmed), encoded, ended
// with the end-of-sequence id, truncated to the text length keeping that end mark, and padded.
// Torch-free: SentencePiece runs in libwanserve_tokenizer.so, loaded on first use.
#include <memory>
#include <string>
#include <vector>

#include "common/error.h"

namespace wanserve::engine {

struct TokenizedText {
  std::vector<int64_t> ids;   // text_len entries, padding included
  std::vector<int64_t> mask;  // 1 on real tokens (the end mark included), 0 on padding
  int length = 0;             // number of real tokens
};

class SentencePieceModel;

class Tokenizer {
 public:
  // Errors: a missing or unreadable model file, named; the module missing (kUnavailable).
  static Result<Tokenizer> Load(const std::string& model_path);
  // For the `tiny` preset, which has no SentencePiece model: each UTF-8 byte of the cleaned
  // prompt is one id in [3, vocab), so different prompts still give different conditioning.
  static Tokenizer Bytes(int vocab);

  TokenizedText Encode(const std::string& text, int text_len) const;

 private:
  std::shared_ptr<const SentencePieceModel> model_;  // null for Bytes
  int vocab_ = 0;
  int64_t eos_id_ = 1;
  int64_t pad_id_ = 0;
};

// The official prompt clean-up ('whitespace' mode), exposed for tests.
std::string CleanPrompt(const std::string& text);

}  // namespace wanserve::engine
