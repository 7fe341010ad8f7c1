// The entry point of libwanserve_tokenizer.so: Debian's libsentencepiece behind TokenizerApi.
#include <sentencepiece_processor.h>

#include "engine/tokenizer_api.h"

namespace wanserve::engine {
namespace {

class SpmModel final : public SentencePieceModel {
 public:
  sentencepiece::SentencePieceProcessor processor;

  std::vector<int> Encode(const std::string& text) const override {
    std::vector<int> ids;
    // Encoding a loaded model fails only on invalid UTF-8, which comes out as <unk> pieces.
    processor.Encode(text, &ids).IgnoreError();
    return ids;
  }
  int eos_id() const override { return processor.eos_id(); }
  int pad_id() const override { return processor.pad_id(); }
};

Result<std::shared_ptr<const SentencePieceModel>> Load(const std::string& model_path) {
  auto model = std::make_shared<SpmModel>();
  const auto status = model->processor.Load(model_path);
  if (!status.ok()) {
    return MakeError(ErrorCode::kInvalidInput,
                     model_path + ": not a SentencePiece model: " + status.ToString());
  }
  return std::shared_ptr<const SentencePieceModel>(std::move(model));
}

}  // namespace
}  // namespace wanserve::engine

extern "C" __attribute__((visibility("default"))) const wanserve::engine::TokenizerApi*
wanserve_tokenizer_api() {
  static const wanserve::engine::TokenizerApi api{wanserve::engine::kTokenizerApiVersion,
                                                  &wanserve::engine::Load};
  return &api;
}
