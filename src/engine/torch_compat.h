#pragma once
// The few places where libtorch 1.13 (Debian, CPU) and libtorch 2.x (the CUDA builds) differ.
#include <torch/version.h>

#if TORCH_VERSION_MAJOR >= 2
#define WANSERVE_TORCH_HAS_SDPA 1
#else
#define WANSERVE_TORCH_HAS_SDPA 0
#endif

// libtorch 2.3 made c10::Allocator::allocate non-const.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 3)
#define WANSERVE_ALLOCATOR_CONST
#else
#define WANSERVE_ALLOCATOR_CONST const
#endif
