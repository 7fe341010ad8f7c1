#include "engine/pth.h"

#include <caffe2/serialize/inline_container.h>
#include <torch/csrc/jit/serialization/unpickler.h>

#include <cstring>
#include <memory>

#include "engine/mapped_file.h"
#include "engine/pickle_check.h"
#include "engine/weights.h"

namespace wanserve::engine {
namespace {

Error FileError(const std::string& path, const std::string& what) {
  return MakeError(ErrorCode::kInvalidInput, path + ": " + what);
}

// The DataPtr context: a heap copy of the owning reference, released with the storage.
void ReleaseMapping(void* context) { delete static_cast<std::shared_ptr<const MappedFile>*>(context); }

void Flatten(const c10::IValue& value, const std::string& prefix,
             std::map<std::string, at::Tensor>& out) {
  if (value.isTensor()) {
    out.emplace(prefix, value.toTensor());
    return;
  }
  if (!value.isGenericDict()) return;
  for (const auto& item : value.toGenericDict()) {
    if (!item.key().isString()) continue;
    const std::string key = item.key().toStringRef();
    Flatten(item.value(), prefix.empty() ? key : prefix + "." + key, out);
  }
}

}  // namespace

Result<std::map<std::string, at::Tensor>> ReadTorchCheckpoint(const std::string& path,
                                                              at::ScalarType float_dtype) {
  ASSIGN_OR_RETURN(auto mapping, MappedFile::Open(path));
  if (mapping->size() == 0) return FileError(path, "empty");
  if (Status sized = CheckArchiveRecordSizes({reinterpret_cast<const char*>(mapping->data()), mapping->size()});
      !sized.ok()) {
    return FileError(path, "not a readable torch.save checkpoint: " + sized.error().message);
  }
  std::map<std::string, at::Tensor> tensors;
  try {
    caffe2::serialize::PyTorchStreamReader reader(path);
    if (!reader.hasRecord("data.pkl")) return FileError(path, "not a torch.save checkpoint (no data.pkl)");
    const auto record = reader.getRecord("data.pkl");
    const char* pickle_bytes = static_cast<const char*>(std::get<0>(record).get());
    const size_t pickle_size = std::get<1>(record);
    if (Status well_formed = CheckPickle({pickle_bytes, pickle_size}); !well_formed.ok()) {
      return FileError(path, "not a readable torch.save checkpoint: " + well_formed.error().message);
    }
    size_t pickle_pos = 0;
    auto read_pickle = [&](char* buffer, size_t n) {
      const size_t take = std::min(n, pickle_size - pickle_pos);
      std::memcpy(buffer, pickle_bytes + pickle_pos, take);
      pickle_pos += take;
      return take;
    };
    // Storages are stored uncompressed; point at them where they lie in the mapping.
    auto read_record = [&](const std::string& key) {
      const size_t offset = reader.getRecordOffset("data/" + key);
      TORCH_CHECK(offset < mapping->size(), "record data/", key, " lies past the end");
      return at::DataPtr(const_cast<unsigned char*>(mapping->data() + offset),
                         new std::shared_ptr<const MappedFile>(mapping), &ReleaseMapping, at::kCPU);
    };
    torch::jit::Unpickler unpickler(read_pickle, nullptr, nullptr, read_record, c10::nullopt);
    unpickler.set_version(reader.version());
    Flatten(unpickler.parse_ivalue(), "", tensors);
  } catch (const c10::Error& e) {
    return FileError(path, std::string("not a readable torch.save checkpoint: ") +
                               e.what_without_backtrace());
  }
  if (tensors.empty()) return FileError(path, "holds no tensors");
  const unsigned char* end = mapping->data() + mapping->size();
  for (auto& [name, tensor] : tensors) {
    const auto* first = static_cast<const unsigned char*>(tensor.storage().data());
    if (first + tensor.storage().nbytes() > end) {
      return FileError(path, "truncated (" + name + " lies past the end)");
    }
    const bool aligned = reinterpret_cast<uintptr_t>(tensor.data_ptr()) % tensor.element_size() == 0;
    if (!aligned) tensor = tensor.clone();
    if (at::isFloatingType(tensor.scalar_type()) && float_dtype != kStoredDtype && tensor.scalar_type() != float_dtype) {
      tensor = tensor.to(float_dtype);
    }
  }
  return tensors;
}

}  // namespace wanserve::engine
