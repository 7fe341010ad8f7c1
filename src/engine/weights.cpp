#include "engine/weights.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <filesystem>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "engine/pth.h"
#include "engine/safetensors.h"

namespace wanserve::engine {
namespace fs = std::filesystem;
namespace {

constexpr const char* kKnownPrefixes[] = {"model.diffusion_model.", "diffusion_model.", "model."};

std::string ShapeText(at::IntArrayRef shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) text += ", ";
    text += std::to_string(shape[i]);
  }
  return text + "]";
}

// The shard files named by an index's weight_map, in first-seen order.
Result<std::vector<std::string>> ShardsOf(const fs::path& index) {
  std::ifstream in(index);
  if (!in) return MakeError(ErrorCode::kInvalidInput, index.string() + ": cannot open");
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    return MakeError(ErrorCode::kInvalidInput, index.string() + ": malformed: " + e.what());
  }
  if (!doc.contains("weight_map") || !doc["weight_map"].is_object()) {
    return MakeError(ErrorCode::kInvalidInput, index.string() + ": no weight_map");
  }
  std::vector<std::string> shards;
  std::set<std::string> seen;
  for (const auto& [name, file] : doc["weight_map"].items()) {
    if (!file.is_string()) {
      return MakeError(ErrorCode::kInvalidInput, index.string() + ": bad entry for " + name);
    }
    const auto path = (index.parent_path() / file.get<std::string>()).string();
    if (seen.insert(path).second) shards.push_back(path);
  }
  return shards;
}

// A path given as a directory means the index in it, or its only safetensors file.
Result<std::vector<std::string>> FilesFor(const fs::path& path) {
  if (!fs::is_directory(path)) {
    if (!fs::exists(path)) return MakeError(ErrorCode::kNotFound, path.string() + ": no such file");
    if (path.string().ends_with(".index.json")) return ShardsOf(path);
    return std::vector<std::string>{path.string()};
  }
  std::vector<fs::path> indexes;
  std::vector<fs::path> singles;
  for (const auto& e : fs::directory_iterator(path)) {
    const std::string name = e.path().filename().string();
    if (name.ends_with(".safetensors.index.json")) indexes.push_back(e.path());
    if (name.ends_with(".safetensors") || name.ends_with(".pth")) singles.push_back(e.path());
  }
  if (indexes.size() == 1) return ShardsOf(indexes[0]);
  if (indexes.empty() && singles.size() == 1) return std::vector<std::string>{singles[0].string()};
  return MakeError(ErrorCode::kInvalidInput,
                   path.string() + ": expected one *.safetensors.index.json or one .safetensors or .pth file");
}

// torch.save checkpoints are zip files; everything else is read as safetensors.
bool IsZip(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  in.read(magic, sizeof magic);
  return in && std::memcmp(magic, "PK\x03\x04", 4) == 0;
}

Result<std::map<std::string, at::Tensor>> ReadSafetensors(const std::string& path,
                                                          at::ScalarType dtype) {
  ASSIGN_OR_RETURN(auto file, SafetensorsFile::Open(path));
  std::map<std::string, at::Tensor> tensors;
  for (const auto& [name, entry] : file->entries()) {
    ASSIGN_OR_RETURN(auto tensor, file->Read(name, dtype));
    tensors.emplace(name, std::move(tensor));
  }
  return tensors;
}

uint64_t Fnv1a(const std::string& text) {
  uint64_t hash = 1469598103934665603ull;
  for (unsigned char c : text) hash = (hash ^ c) * 1099511628211ull;
  return hash;
}

// Norm scales near one, biases and modulations small, matrices and embeddings with unit
// variance per output (1/sqrt(fan in)), as the usual initialisations give.
at::Tensor RandomTensor(uint64_t seed, const std::string& name, at::IntArrayRef shape, at::Device device) {
  const at::Tensor noise =
      device.is_cpu() ? at::randn(shape, at::make_generator<at::CPUGeneratorImpl>(seed ^ Fnv1a(name)),
                                  at::TensorOptions().dtype(at::kFloat))
                      : at::randn(shape, at::TensorOptions().dtype(at::kFloat).device(device));
  const bool scale = name.ends_with("gamma") || (name.find("norm") != std::string::npos && name.ends_with("weight"));
  if (scale) return 1.0f + 0.1f * noise;
  if (shape.size() == 1) return 0.02f * noise;
  int64_t fan_in = 1;
  for (size_t i = 1; i < shape.size(); ++i) fan_in *= shape[i];
  if (name.find("embedding.weight") != std::string::npos && shape.size() == 2) fan_in = shape[1];
  return noise / std::sqrt(static_cast<float>(fan_in));
}

}  // namespace

Weights Weights::Random(uint64_t seed) {
  Weights weights;
  weights.random_seed_ = seed;
  weights.generated_ = std::make_shared<std::map<std::string, at::Tensor>>();
  return weights;
}

Weights Weights::RandomOn(uint64_t seed, at::Device device) {
  if (device.is_cpu()) return Random(seed);
  at::manual_seed(seed);
  Weights weights;
  weights.random_seed_ = seed;
  weights.random_device_ = device;
  return weights;
}

Result<Weights> Weights::Load(const std::string& path, at::ScalarType dtype) {
  ASSIGN_OR_RETURN(auto files, FilesFor(path));
  Weights weights;
  for (const auto& file_path : files) {
    ASSIGN_OR_RETURN(auto tensors, IsZip(file_path) ? ReadTorchCheckpoint(file_path, dtype)
                                                    : ReadSafetensors(file_path, dtype));
    for (auto& [name, tensor] : tensors) {
      if (!weights.tensors_.emplace(name, std::move(tensor)).second) {
        return MakeError(ErrorCode::kInvalidInput, file_path + ": " + name + " appears twice");
      }
    }
  }
  for (const char* prefix : kKnownPrefixes) {
    const std::string p = prefix;
    bool all = !weights.tensors_.empty();
    for (const auto& [name, t] : weights.tensors_) all = all && name.starts_with(p);
    if (!all) continue;
    std::map<std::string, at::Tensor> stripped;
    for (auto& [name, t] : weights.tensors_) stripped.emplace(name.substr(p.size()), std::move(t));
    weights.tensors_ = std::move(stripped);
    break;
  }
  return weights;
}

size_t Weights::bytes() const {
  size_t total = 0;
  for (const auto& [name, t] : tensors_) total += t.nbytes();
  return total;
}

WeightReader WeightReader::Scope(const std::string& name) const {
  WeightReader child(weights_, placement_, prefix_ + name + ".");
  child.first_error_ = first_error_;
  child.failed_ = failed_;
  return child;
}

at::Tensor WeightReader::operator()(const std::string& name, std::vector<int64_t> shape) {
  // Without a change of device or dtype this is the loaded tensor itself (a view of the file).
  return Read(name, std::move(shape)).to(placement_.device, at::kFloat);
}

at::Tensor WeightReader::Compute(const std::string& name, std::vector<int64_t> shape) {
  return Read(name, std::move(shape)).to(placement_.device, placement_.compute);
}

at::Tensor WeightReader::Read(const std::string& name, std::vector<int64_t> shape) {
  const std::string full = prefix_ + name;
  auto it = weights_.tensors().find(full);
  if (it == weights_.tensors().end() && weights_.random_seed_) {
    at::Tensor made = RandomTensor(*weights_.random_seed_, full, shape, weights_.random_device_);
    if (weights_.generated_) weights_.generated_->insert_or_assign(full, made);
    return made;
  }
  if (it == weights_.tensors().end()) {
    if (!*failed_) *first_error_ = MakeError(ErrorCode::kInvalidInput, "missing weight " + full);
    *failed_ = true;
    return at::zeros(shape);
  }
  if (it->second.sizes() != at::IntArrayRef(shape)) {
    if (!*failed_) {
      *first_error_ = MakeError(ErrorCode::kInvalidInput,
                                "weight " + full + " has shape " + ShapeText(it->second.sizes()) +
                                    ", expected " + ShapeText(shape));
    }
    *failed_ = true;
    return at::zeros(shape);
  }
  return it->second;
}

Status WeightReader::status() const {
  if (*failed_) return *first_error_;
  return Status::Ok();
}

}  // namespace wanserve::engine
