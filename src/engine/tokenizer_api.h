#pragma once
// The table libwanserve_tokenizer.so exports: SentencePiece behind an interface, so the process
// never has libsentencepiece in the lookup scope libtorch uses (see module_loader.h).
#include <memory>
#include <string>
#include <vector>

#include "common/error.h"

namespace wanserve::engine {

inline constexpr int kTokenizerApiVersion = 1;

class SentencePieceModel {
 public:
  virtual ~SentencePieceModel() = default;
  virtual std::vector<int> Encode(const std::string& text) const = 0;
  virtual int eos_id() const = 0;  // -1 when the model has none
  virtual int pad_id() const = 0;
};

struct TokenizerApi {
  int version = kTokenizerApiVersion;
  Result<std::shared_ptr<const SentencePieceModel>> (*load)(const std::string& model_path) = nullptr;
};

}  // namespace wanserve::engine

extern "C" const wanserve::engine::TokenizerApi* wanserve_tokenizer_api();
