# The engine's model code (everything that includes libtorch), shared by this folder's build and
# the stand-alone GPU check (bench/gpu/), which builds it against another machine's PyTorch.
set(WANSERVE_ENGINE_IMPL_SOURCES
  mapped_file.cpp safetensors.cpp pickle_check.cpp pth.cpp weights.cpp ops.cpp t5.cpp dit.cpp sampler.cpp vae.cpp pipeline.cpp
  golden.cpp threads.cpp bench.cpp placement_names.cpp cpu_allocator.cpp image_ops.cpp vace.cpp)
