#pragma once
// Reading PyTorch's zip checkpoints (`torch.save` since 1.6: a zip holding `data.pkl` and one
// stored record per storage), the format of the official Wan VAE and text-encoder files. The
// file is memory mapped and every tensor views its record in place, so loading holds no second
// copy; libtorch's own reader parses the zip directory and the pickle.
#include <ATen/ATen.h>

#include <map>
#include <string>

#include "common/error.h"

namespace wanserve::engine {

// Every tensor of the checkpoint by its state_dict key; nested dicts are flattened with dots.
// Floating tensors are converted to `float_dtype` when stored otherwise (that conversion copies).
// A missing, truncated or non-zip file, or a pickle holding no tensors, is an error naming it.
Result<std::map<std::string, at::Tensor>> ReadTorchCheckpoint(const std::string& path,
                                                              at::ScalarType float_dtype);

}  // namespace wanserve::engine
