#include "engine/safetensors.h"

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/weights.h"

namespace wanserve::engine {
namespace {

struct DtypeInfo {
  const char* name;
  at::ScalarType type;
  size_t size;
};

constexpr DtypeInfo kDtypes[] = {
    {"F64", at::kDouble, 8}, {"F32", at::kFloat, 4},  {"F16", at::kHalf, 2},
    {"BF16", at::kBFloat16, 2}, {"I64", at::kLong, 8}, {"I32", at::kInt, 4},
    {"I16", at::kShort, 2},  {"I8", at::kChar, 1},   {"U8", at::kByte, 1},
    {"BOOL", at::kBool, 1},
};

const DtypeInfo* FindDtype(const std::string& name) {
  for (const auto& d : kDtypes) {
    if (name == d.name) return &d;
  }
  return nullptr;
}

const DtypeInfo* FindDtype(at::ScalarType type) {
  for (const auto& d : kDtypes) {
    if (type == d.type) return &d;
  }
  return nullptr;
}

Error FileError(const std::string& path, const std::string& what) {
  return MakeError(ErrorCode::kInvalidInput, path + ": " + what);
}

}  // namespace

Result<std::shared_ptr<SafetensorsFile>> SafetensorsFile::Open(const std::string& path) {
  auto file = std::shared_ptr<SafetensorsFile>(new SafetensorsFile());
  file->path_ = path;
  ASSIGN_OR_RETURN(file->mapping_, MappedFile::Open(path));
  const size_t file_size = file->mapping_->size();
  if (file_size < 8) return FileError(path, "truncated (no header)");
  const unsigned char* bytes = file->mapping_->data();
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | bytes[i];
  if (header_len > file_size - 8) return FileError(path, "truncated (header)");
  file->data_ = bytes + 8 + header_len;
  const size_t data_size = file_size - 8 - header_len;

  nlohmann::json header;
  try {
    header = nlohmann::json::parse(bytes + 8, bytes + 8 + header_len);
  } catch (const nlohmann::json::exception& e) {
    return FileError(path, std::string("malformed header: ") + e.what());
  }
  if (!header.is_object()) return FileError(path, "malformed header: not an object");
  for (const auto& [name, value] : header.items()) {
    if (name == "__metadata__") {
      if (!value.is_object()) continue;
      for (const auto& [key, text] : value.items()) {
        if (text.is_string()) file->metadata_[key] = text.get<std::string>();
      }
      continue;
    }
    TensorEntry entry;
    try {
      entry.dtype = value.at("dtype").get<std::string>();
      entry.shape = value.at("shape").get<std::vector<int64_t>>();
      const auto offsets = value.at("data_offsets").get<std::vector<size_t>>();
      if (offsets.size() != 2) return FileError(path, name + ": bad data_offsets");
      entry.begin = offsets[0];
      entry.end = offsets[1];
    } catch (const nlohmann::json::exception&) {
      return FileError(path, name + ": malformed entry");
    }
    const DtypeInfo* info = FindDtype(entry.dtype);
    if (info == nullptr) return FileError(path, name + ": unsupported dtype " + entry.dtype);
    size_t count = 1;
    for (int64_t d : entry.shape) {
      if (d < 0) return FileError(path, name + ": negative dimension");
      count *= static_cast<size_t>(d);
    }
    if (entry.end < entry.begin || entry.end - entry.begin != count * info->size) {
      return FileError(path, name + ": byte range does not match its shape");
    }
    if (entry.end > data_size) return FileError(path, "truncated (" + name + " lies past the end)");
    file->entries_.emplace(name, std::move(entry));
  }
  return file;
}

Result<at::Tensor> SafetensorsFile::Read(const std::string& name,
                                         at::ScalarType float_dtype) const {
  auto it = entries_.find(name);
  if (it == entries_.end()) return FileError(path_, "no tensor named " + name);
  const TensorEntry& entry = it->second;
  const DtypeInfo* info = FindDtype(entry.dtype);
  const unsigned char* begin = data_ + entry.begin;
  at::Tensor tensor;
  if (reinterpret_cast<uintptr_t>(begin) % info->size == 0) {
    tensor = at::from_blob(const_cast<unsigned char*>(begin), entry.shape,
                           [keep = mapping_](void*) {},
                           at::TensorOptions().dtype(info->type));
  } else {
    tensor = at::empty(entry.shape, at::TensorOptions().dtype(info->type));
    std::memcpy(tensor.data_ptr(), begin, entry.end - entry.begin);
  }
  if (at::isFloatingType(info->type) && float_dtype != kStoredDtype && info->type != float_dtype) {
    return tensor.to(float_dtype);
  }
  return tensor;
}

Status WriteSafetensors(const std::string& path, const std::map<std::string, at::Tensor>& tensors,
                        const std::map<std::string, std::string>& metadata) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<at::Tensor> ordered;
  size_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    const DtypeInfo* info = FindDtype(tensor.scalar_type());
    if (info == nullptr) return MakeError(ErrorCode::kInvalidInput, name + ": unsupported dtype");
    at::Tensor data = tensor.contiguous().cpu();
    const size_t bytes = static_cast<size_t>(data.numel()) * info->size;
    header[name] = {{"dtype", info->name},
                    {"shape", data.sizes().vec()},
                    {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    ordered.push_back(std::move(data));
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return MakeError(ErrorCode::kInternal, path + ": cannot write");
  const uint64_t len = text.size();
  for (int i = 0; i < 8; ++i) out.put(static_cast<char>((len >> (8 * i)) & 0xff));
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  for (const auto& t : ordered) {
    out.write(static_cast<const char*>(t.data_ptr()), static_cast<std::streamsize>(t.nbytes()));
  }
  out.close();
  if (!out) return MakeError(ErrorCode::kInternal, path + ": write failed");
  return Status::Ok();
}

}  // namespace wanserve::engine
