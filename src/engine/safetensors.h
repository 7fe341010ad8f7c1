#pragma once
// Reading and writing the safetensors format: an 8-byte little-endian header length, a JSON
// header naming each tensor's dtype, shape and byte range, then the raw data. Files are memory
// mapped, so a float32 tensor is a view of the page cache rather than a second copy.
#include <ATen/ATen.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/error.h"
#include "engine/mapped_file.h"

namespace wanserve::engine {

struct TensorEntry {
  std::string dtype;  // as in the header: F32, F16, BF16, I64, ...
  std::vector<int64_t> shape;
  size_t begin = 0;  // byte range inside the data section
  size_t end = 0;
};

class SafetensorsFile {
 public:
  // Maps the file and validates the header (every range inside the file, sizes matching
  // shapes); a truncated or malformed file is an error naming the file.
  static Result<std::shared_ptr<SafetensorsFile>> Open(const std::string& path);
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::map<std::string, TensorEntry>& entries() const { return entries_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  bool Contains(const std::string& name) const { return entries_.count(name) > 0; }

  // The tensor as stored, viewing the read-only mapping (kept alive by the tensor; never write
  // into it). Floating tensors are
  // converted to `float_dtype` when it differs from the stored one (that conversion copies).
  Result<at::Tensor> Read(const std::string& name,
                          at::ScalarType float_dtype = at::kFloat) const;

 private:
  SafetensorsFile() = default;
  std::string path_;
  std::shared_ptr<const MappedFile> mapping_;
  const unsigned char* data_ = nullptr;  // start of the data section
  std::map<std::string, TensorEntry> entries_;
  std::map<std::string, std::string> metadata_;
};

// Writes tensors (contiguous copies, native little-endian) with optional string metadata.
Status WriteSafetensors(const std::string& path, const std::map<std::string, at::Tensor>& tensors,
                        const std::map<std::string, std::string>& metadata = {});

}  // namespace wanserve::engine
