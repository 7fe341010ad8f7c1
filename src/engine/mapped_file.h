#pragma once
// A whole file mapped read-only, shared by every tensor that views it (the checkpoint readers
// hand out tensors over the mapping instead of copies).
#include <memory>
#include <string>

#include "common/error.h"

namespace wanserve::engine {

class MappedFile {
 public:
  // Errors name the file: kNotFound when it does not exist, kInvalidInput otherwise. An empty
  // file maps to size 0 and no data.
  static Result<std::shared_ptr<const MappedFile>> Open(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const unsigned char* data() const { return static_cast<const unsigned char*>(map_); }
  size_t size() const { return size_; }

 private:
  MappedFile(void* map, size_t size) : map_(map), size_(size) {}
  void* map_;
  size_t size_;
};

}  // namespace wanserve::engine
