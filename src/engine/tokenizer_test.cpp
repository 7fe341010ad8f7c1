// The UMT5 tokenizer against the reference SentencePiece tools: a small model is trained with
// spm_train, and our ids must be spm_encode's, ended with </s> and padded as the pipeline does.
#include "engine/tokenizer.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace wanserve::engine {
namespace {
namespace fs = std::filesystem;

class TokenizerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ::setenv("WANSERVE_TOKENIZER_LIBRARY", WANSERVE_TOKENIZER_MODULE, 1);
    dir_ = fs::temp_directory_path() / ("ws_tokenizer_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    const char* words[] = {"a",      "cat",   "dog",    "runs",   "through", "the",   "snowy",
                           "forest", "under", "golden", "light",  "camera",  "slowly", "pans",
                           "across", "city",  "street", "at",     "night",   "neon",  "rain",
                           "猫",     "在",    "雪地",   "里奔跑", "portrait", "of",    "an",
                           "old",    "sailor"};
    std::ofstream corpus(dir_ / "corpus.txt");
    unsigned state = 7;
    for (int line = 0; line < 3000; ++line) {
      for (int w = 0; w < 12; ++w) {
        state = state * 1103515245u + 12345u;
        corpus << (w ? " " : "") << words[(state >> 16) % std::size(words)];
      }
      corpus << "\n";
    }
    corpus.close();
    // UMT5's special ids: <pad> 0, </s> 1, <unk> 2, no <s>.
    const std::string train = "spm_train --input=" + (dir_ / "corpus.txt").string() +
                              " --model_prefix=" + (dir_ / "m").string() +
                              " --vocab_size=80 --hard_vocab_limit=false --model_type=unigram --character_coverage=1.0"
                              " --pad_id=0 --eos_id=1 --unk_id=2 --bos_id=-1 --minloglevel=2 > /dev/null 2>&1";
    ASSERT_EQ(std::system(train.c_str()), 0) << "spm_train failed (package sentencepiece)";
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  static std::string ModelPath() { return (dir_ / "m.model").string(); }

  // spm_encode's ids for one line of text.
  static std::vector<int64_t> ReferenceIds(const std::string& text) {
    std::ofstream(dir_ / "in.txt") << text << "\n";
    const std::string cmd = "spm_encode --model=" + ModelPath() + " --output_format=id < " +
                            (dir_ / "in.txt").string() + " > " + (dir_ / "out.txt").string();
    EXPECT_EQ(std::system(cmd.c_str()), 0);
    std::ifstream in(dir_ / "out.txt");
    std::vector<int64_t> ids;
    for (int64_t id; in >> id;) ids.push_back(id);
    return ids;
  }

  static fs::path dir_;
};
fs::path TokenizerTest::dir_;

TEST_F(TokenizerTest, IdsAreSpmEncodeEndedWithEosAndPadded) {
  auto tokenizer = Tokenizer::Load(ModelPath());
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.error().message;
  for (const std::string text : {"a cat runs through the snowy forest",
                                 "camera slowly pans across neon city street at night",
                                 "猫 在 雪地 里奔跑", "portrait of an old sailor zebra"}) {
    const std::vector<int64_t> reference = ReferenceIds(text);
    ASSERT_FALSE(reference.empty());
    const TokenizedText got = tokenizer->Encode(text, 32);
    ASSERT_EQ(got.ids.size(), 32u);
    ASSERT_EQ(got.length, static_cast<int>(reference.size()) + 1) << text;
    for (size_t i = 0; i < reference.size(); ++i) EXPECT_EQ(got.ids[i], reference[i]) << text << " @" << i;
    EXPECT_EQ(got.ids[reference.size()], 1) << "ends with </s>";
    for (size_t i = 0; i < 32; ++i) {
      EXPECT_EQ(got.mask[i], i < reference.size() + 1 ? 1 : 0);
      if (i > reference.size()) {
        EXPECT_EQ(got.ids[i], 0) << "padded with <pad>";
      }
    }
  }
}

TEST_F(TokenizerTest, LongPromptsAreTruncatedKeepingTheEndMark) {
  auto tokenizer = Tokenizer::Load(ModelPath());
  ASSERT_TRUE(tokenizer.ok());
  std::string text;
  for (int i = 0; i < 40; ++i) text += "golden light under the forest ";
  text.pop_back();
  const std::vector<int64_t> reference = ReferenceIds(text);
  ASSERT_GT(reference.size(), 16u);
  const TokenizedText got = tokenizer->Encode(text, 16);
  EXPECT_EQ(got.length, 16);
  EXPECT_EQ(got.ids.back(), 1);
  EXPECT_EQ(std::vector<int64_t>(got.ids.begin(), got.ids.end() - 1),
            std::vector<int64_t>(reference.begin(), reference.begin() + 15));
  EXPECT_EQ(got.mask, std::vector<int64_t>(16, 1));
}

TEST_F(TokenizerTest, PromptsAreCleanedAsTheOfficialPipelineDoes) {
  EXPECT_EQ(CleanPrompt("  a\tcat&amp;amp;dog \n\n runs\xE3\x80\x80 fast  "), "a cat&dog runs fast");
  EXPECT_EQ(CleanPrompt("&lt;b&gt; &#72;&#x49;"), "<b> HI");
  EXPECT_EQ(CleanPrompt("rock & roll &unknown;"), "rock & roll &unknown;");
  auto tokenizer = Tokenizer::Load(ModelPath());
  ASSERT_TRUE(tokenizer.ok());
  EXPECT_EQ(tokenizer->Encode("  the   cat\t", 8).ids, tokenizer->Encode("the cat", 8).ids);
}

TEST_F(TokenizerTest, ByteTokenizerOfTheTinyPresetIsDeterministicAndBounded) {
  const Tokenizer bytes = Tokenizer::Bytes(1000);
  const TokenizedText a = bytes.Encode("a red fox", 16);
  EXPECT_EQ(a.length, 10);
  EXPECT_EQ(a.ids[9], 1);
  EXPECT_EQ(a.ids[0], 3 + 'a');
  EXPECT_EQ(a.ids, bytes.Encode(" a  red fox ", 16).ids);
  EXPECT_NE(a.ids, bytes.Encode("a red cat", 16).ids);
  for (int64_t id : bytes.Encode("\xE7\x8C\xAB", 8).ids) EXPECT_LT(id, 1000);
}

TEST_F(TokenizerTest, MissingOrForeignModelIsAClearError) {
  auto missing = Tokenizer::Load((dir_ / "absent.model").string());
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("absent.model"), std::string::npos);
  auto foreign = Tokenizer::Load((dir_ / "corpus.txt").string());
  ASSERT_FALSE(foreign.ok());
  EXPECT_NE(foreign.error().message.find("corpus.txt"), std::string::npos);
}

}  // namespace
}  // namespace wanserve::engine
