// Weight loading: safetensors single and sharded, torch.save checkpoints, dtypes, prefixes, and
// clear errors for missing, truncated and mis-shaped weights.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <caffe2/serialize/inline_container.h>
#include <torch/csrc/jit/serialization/pickle.h>

#include "engine/pickle_check.h"
#include "engine/safetensors.h"
#include "engine/weights.h"

namespace wanserve::engine {
namespace {
namespace fs = std::filesystem;

class WeightsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("ws_weights_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }
  fs::path dir_;
};

TEST_F(WeightsTest, RoundTripKeepsValuesDtypesAndMetadata) {
  const at::Tensor a = at::randn({3, 4});
  const at::Tensor ids = at::arange(5, at::kLong);
  ASSERT_TRUE(WriteSafetensors(Path("m.safetensors"), {{"a", a}, {"ids", ids}}, {{"config", "{}"}}).ok());
  auto file = SafetensorsFile::Open(Path("m.safetensors"));
  ASSERT_TRUE(file.ok()) << file.error().message;
  EXPECT_EQ((*file)->metadata().at("config"), "{}");
  auto read_a = (*file)->Read("a");
  ASSERT_TRUE(read_a.ok());
  EXPECT_TRUE(at::equal(*read_a, a));
  auto read_ids = (*file)->Read("ids");
  ASSERT_TRUE(read_ids.ok());
  EXPECT_EQ(read_ids->scalar_type(), at::kLong);
  EXPECT_TRUE(at::equal(*read_ids, ids));
}

TEST_F(WeightsTest, Bf16AndF16AreWidenedToFloat) {
  const at::Tensor a = at::randn({8});
  ASSERT_TRUE(WriteSafetensors(Path("h.safetensors"),
                               {{"bf", a.to(at::kBFloat16)}, {"h", a.to(at::kHalf)}}).ok());
  auto weights = Weights::Load(Path("h.safetensors"));
  ASSERT_TRUE(weights.ok()) << weights.error().message;
  const at::Tensor bf = weights->tensors().at("bf");
  EXPECT_EQ(bf.scalar_type(), at::kFloat);
  EXPECT_TRUE(at::equal(bf, a.to(at::kBFloat16).to(at::kFloat)));
  EXPECT_LT((weights->tensors().at("h") - a).abs().max().item<float>(), 1e-2);
}

TEST_F(WeightsTest, KnownPrefixIsStrippedOnlyWhenEveryKeyHasIt) {
  ASSERT_TRUE(WriteSafetensors(Path("p.safetensors"),
                               {{"model.diffusion_model.blocks.0.w", at::ones({2})},
                                {"model.diffusion_model.head.w", at::ones({2})}}).ok());
  auto weights = Weights::Load(Path("p.safetensors"));
  ASSERT_TRUE(weights.ok());
  EXPECT_TRUE(weights->Has("blocks.0.w"));
  EXPECT_TRUE(weights->Has("head.w"));

  ASSERT_TRUE(WriteSafetensors(Path("q.safetensors"),
                               {{"model.a", at::ones({2})}, {"b", at::ones({2})}}).ok());
  auto mixed = Weights::Load(Path("q.safetensors"));
  ASSERT_TRUE(mixed.ok());
  EXPECT_TRUE(mixed->Has("model.a"));
}

TEST_F(WeightsTest, ShardedIndexLoadsEveryShardFromTheDirectory) {
  ASSERT_TRUE(WriteSafetensors(Path("m-00001.safetensors"), {{"a", at::full({2}, 1.0f)}}).ok());
  ASSERT_TRUE(WriteSafetensors(Path("m-00002.safetensors"), {{"b", at::full({3}, 2.0f)}}).ok());
  std::ofstream(Path("m.safetensors.index.json"))
      << R"({"metadata": {}, "weight_map": {"a": "m-00001.safetensors", "b": "m-00002.safetensors"}})";
  auto weights = Weights::Load(dir_.string());
  ASSERT_TRUE(weights.ok()) << weights.error().message;
  EXPECT_EQ(weights->tensors().size(), 2u);
  EXPECT_EQ(weights->tensors().at("b").size(0), 3);
  EXPECT_EQ(weights->bytes(), 5u * sizeof(float));
}

TEST_F(WeightsTest, TruncatedFileIsAClearError) {
  ASSERT_TRUE(WriteSafetensors(Path("t.safetensors"), {{"a", at::randn({64})}}).ok());
  fs::resize_file(Path("t.safetensors"), fs::file_size(Path("t.safetensors")) - 16);
  auto weights = Weights::Load(Path("t.safetensors"));
  ASSERT_FALSE(weights.ok());
  EXPECT_NE(weights.error().message.find("truncated"), std::string::npos) << weights.error().message;
  EXPECT_NE(weights.error().message.find("t.safetensors"), std::string::npos);
}

TEST_F(WeightsTest, MissingFileAndGarbageHeaderAreErrors) {
  EXPECT_FALSE(Weights::Load(Path("absent.safetensors")).ok());
  std::ofstream(Path("g.safetensors")) << std::string("\x10\0\0\0\0\0\0\0not json at all!", 24);
  auto garbage = Weights::Load(Path("g.safetensors"));
  ASSERT_FALSE(garbage.ok());
  EXPECT_NE(garbage.error().message.find("malformed"), std::string::npos);
}

TEST_F(WeightsTest, ReaderNamesTheMissingOrMisShapedTensor) {
  Weights weights({{"blocks.0.q.weight", at::zeros({4, 4})}});
  WeightReader ok(weights);
  (void)ok.Scope("blocks.0")("q.weight", {4, 4});
  EXPECT_TRUE(ok.status().ok());

  WeightReader shape(weights);
  (void)shape.Scope("blocks.0")("q.weight", {4, 8});
  ASSERT_FALSE(shape.status().ok());
  EXPECT_NE(shape.status().error().message.find("blocks.0.q.weight has shape [4, 4], expected [4, 8]"),
            std::string::npos)
      << shape.status().error().message;

  WeightReader missing(weights);
  (void)missing("blocks.1.q.weight", {4, 4});
  ASSERT_FALSE(missing.status().ok());
  EXPECT_NE(missing.status().error().message.find("missing weight blocks.1.q.weight"), std::string::npos);
}

// The official VAE and text-encoder files are torch.save zips; the golden set has the tiny
// weights in that format beside the safetensors copies.
TEST_F(WeightsTest, TorchCheckpointsMatchTheirSafetensorsCopies) {
  const std::string golden = WANSERVE_GOLDEN_DIR;
  if (golden.empty()) GTEST_SKIP() << "golden set not found";
  auto vae_pth = Weights::Load(golden + "/wan21_vae.pth");
  ASSERT_TRUE(vae_pth.ok()) << vae_pth.error().message;
  auto vae = Weights::Load(golden + "/wan21_vae.safetensors");
  ASSERT_TRUE(vae.ok());
  ASSERT_EQ(vae_pth->tensors().size(), vae->tensors().size());
  for (const auto& [name, tensor] : vae->tensors()) {
    ASSERT_TRUE(vae_pth->Has(name)) << name;
    EXPECT_TRUE(at::equal(vae_pth->tensors().at(name), tensor)) << name;
  }

  // The encoder file is bfloat16, as the official one: widened, it is the rounded float32.
  auto t5_pth = Weights::Load(golden + "/umt5_encoder.pth");
  ASSERT_TRUE(t5_pth.ok()) << t5_pth.error().message;
  auto t5 = Weights::Load(golden + "/umt5_encoder.safetensors");
  ASSERT_TRUE(t5.ok());
  ASSERT_EQ(t5_pth->tensors().size(), t5->tensors().size());
  for (const auto& [name, tensor] : t5->tensors()) {
    const at::Tensor loaded = t5_pth->tensors().at(name);
    EXPECT_EQ(loaded.scalar_type(), at::kFloat) << name;
    EXPECT_TRUE(at::equal(loaded, tensor.to(at::kBFloat16).to(at::kFloat))) << name;
  }
}

TEST_F(WeightsTest, TorchCheckpointNestedDictsAreFlattenedAndPrefixStripped) {
  c10::Dict<std::string, at::Tensor> inner;
  inner.insert("diffusion_model.blocks.0.w", at::arange(6, at::kFloat).reshape({2, 3}));
  inner.insert("diffusion_model.head.b", at::full({4}, 0.5f).to(at::kBFloat16));
  c10::Dict<std::string, c10::Dict<std::string, at::Tensor>> outer;
  outer.insert("model", inner);
  const std::vector<char> bytes = torch::jit::pickle_save(outer);
  std::ofstream(Path("nested.pth"), std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));

  auto weights = Weights::Load(Path("nested.pth"));
  ASSERT_TRUE(weights.ok()) << weights.error().message;
  ASSERT_TRUE(weights->Has("blocks.0.w"));
  EXPECT_TRUE(at::equal(weights->tensors().at("blocks.0.w"), at::arange(6, at::kFloat).reshape({2, 3})));
  EXPECT_EQ(weights->tensors().at("head.b").scalar_type(), at::kFloat);
  EXPECT_TRUE(at::equal(weights->tensors().at("head.b"), at::full({4}, 0.5f)));
}

TEST_F(WeightsTest, TruncatedOrForeignTorchCheckpointIsAClearError) {
  c10::Dict<std::string, at::Tensor> dict;
  dict.insert("w", at::randn({256}));
  const std::vector<char> bytes = torch::jit::pickle_save(dict);
  std::ofstream(Path("cut.pth"), std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 2));
  auto cut = Weights::Load(Path("cut.pth"));
  ASSERT_FALSE(cut.ok());
  EXPECT_NE(cut.error().message.find("cut.pth"), std::string::npos) << cut.error().message;

  const char kNotAZip[] = "PK\x03\x04 but not a zip at all";
  std::ofstream(Path("odd.pth"), std::ios::binary).write(kNotAZip, sizeof kNotAZip - 1);
  auto odd = Weights::Load(Path("odd.pth"));
  ASSERT_FALSE(odd.ok());
  EXPECT_NE(odd.error().message.find("odd.pth"), std::string::npos) << odd.error().message;
}

// A torch.save archive around the given pickle.
void WriteCheckpoint(const std::string& path, const std::string& pickle) {
  std::string bytes;
  caffe2::serialize::PyTorchStreamWriter writer([&](const void* data, size_t n) {
    bytes.append(static_cast<const char*>(data), n);
    return n;
  });
  writer.writeRecord("data.pkl", pickle.data(), pickle.size());
  writer.writeEndOfFile();
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// libtorch 1.13's unpickler trusts the stream: a REDUCE on a one-item stack (the fuzzer's find)
// reads outside its vectors. The pickle is checked before it gets there.
TEST_F(WeightsTest, AMalformedPickleIsRefusedBeforeLibtorchReadsIt) {
  using namespace std::string_literals;
  WriteCheckpoint(Path("bad.pth"), "\x80\x02" "ccollections\nOrderedDict\nq\x00R."s);
  auto bad = Weights::Load(Path("bad.pth"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("bad.pth"), std::string::npos) << bad.error().message;
  EXPECT_NE(bad.error().message.find("opcode 0x52 at byte 29: pops 2 item(s) where 1 lie above the mark"),
            std::string::npos) << bad.error().message;

  const std::vector<std::pair<std::string, std::string>> refused = {
      {"\x80\x02t."s, "no MARK before it"},
      {"\x80\x02N(\x85."s, "pops 1 item(s) where 0 lie above the mark"},  // TUPLE1 across the mark
      {"\x80\x02h\x05" "."s, "reads memo 5 that was never written"},
      {"\x80\x02X\xff\x00\x00\x00" "abc."s, "its data runs past the end"},
      {"\x80\x02NN."s, "STOP with 2 item(s)"},
      {"\x80\x02(N."s, "STOP with 1 item(s) and 1 mark(s)"},
      {"\x80\x02}(Nd."s, "an odd number of keys and values"},
      {"\x80\x02N"s, "the stream ends without STOP"},
      {"\x80\x02" "cos\nsystem"s, "its text has no end of line"},
      {"\x80\x02i."s, "not an opcode torch.save writes"},
      {"\x80\x02Nr\x12\x89\x68\x10."s, "memoizes at 275286290, past what a stream of 9 bytes numbers"},
      {"\x80\x02Ns."s, "needs three items above the mark"},
  };
  for (const auto& [pickle, why] : refused) {
    const Status checked = CheckPickle(pickle);
    ASSERT_FALSE(checked.ok()) << why;
    EXPECT_NE(checked.error().message.find(why), std::string::npos) << checked.error().message;
  }
  // libtorch allocates what the zip directory declares for a record before reading it: for
  // data.pkl, and for the version record it reads on opening the archive (a fuzzer's find: 4
  // GB). A forged size on either is refused.
  c10::Dict<std::string, at::Tensor> dict;
  dict.insert("w", at::ones({4}));
  for (const std::string record : {"data.pkl", "version"}) {
    std::vector<char> archive = torch::jit::pickle_save(dict);
    const std::string_view bytes(archive.data(), archive.size());
    size_t entry = 0;
    for (size_t at = bytes.find("PK\x01\x02"); at != std::string_view::npos; at = bytes.find("PK\x01\x02", at + 1)) {
      if (bytes.substr(at + 46, static_cast<uint8_t>(bytes[at + 28])).ends_with("/" + record)) entry = at;
    }
    ASSERT_GT(entry, 0u) << record;
    archive[entry + 27] = 0x7f;  // the uncompressed size's top byte: about 2 GB
    std::ofstream(Path("forged.pth"), std::ios::binary).write(archive.data(), static_cast<std::streamsize>(archive.size()));
    auto forged = Weights::Load(Path("forged.pth"));
    ASSERT_FALSE(forged.ok()) << record;
    EXPECT_NE(forged.error().message.find(record + " declares"), std::string::npos) << forged.error().message;
  }

  // What torch.save writes for a nested state dict passes (and loads: the tests above).
  EXPECT_TRUE(CheckPickle("\x80\x02}q\x00(X\x01\x00\x00\x00" "aq\x01K\x01u."s).ok());
}

TEST_F(WeightsTest, StoredDtypeIsKeptAndEachModelTensorTakesItsPlacement) {
  const at::Tensor a = at::randn({4, 8});
  ASSERT_TRUE(WriteSafetensors(Path("s.safetensors"), {{"m.w", a.to(at::kBFloat16)}, {"m.n", a[0]}}).ok());
  auto stored = Weights::Load(Path("s.safetensors"), kStoredDtype);
  ASSERT_TRUE(stored.ok()) << stored.error().message;
  EXPECT_EQ(stored->tensors().at("m.w").scalar_type(), at::kBFloat16) << "not widened at load";
  EXPECT_EQ(stored->tensors().at("m.n").scalar_type(), at::kFloat);

  WeightReader bf16(*stored, {at::kCPU, at::kBFloat16});
  const at::Tensor w = bf16.Scope("m").Compute("w", {4, 8});
  const at::Tensor n = bf16.Scope("m")("n", {8});
  ASSERT_TRUE(bf16.status().ok());
  EXPECT_EQ(w.scalar_type(), at::kBFloat16);
  EXPECT_EQ(w.data_ptr(), stored->tensors().at("m.w").data_ptr()) << "already in place: a view of the file";
  EXPECT_EQ(n.scalar_type(), at::kFloat);

  WeightReader exact(*stored);
  const at::Tensor widened = exact.Scope("m").Compute("w", {4, 8});
  EXPECT_EQ(widened.scalar_type(), at::kFloat);
  EXPECT_TRUE(at::equal(widened, a.to(at::kBFloat16).to(at::kFloat)));
}

}  // namespace
}  // namespace wanserve::engine
