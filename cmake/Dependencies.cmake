# Every third-party dependency is found here and exposed as an imported target whose headers
# are SYSTEM includes, so -Wall -Wextra -Wpedantic -Werror apply to our code only.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)

find_package(Boost 1.81 REQUIRED CONFIG COMPONENTS url)
find_package(nlohmann_json 3.11 REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(CURL REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
pkg_check_modules(TOMLPP REQUIRED IMPORTED_TARGET tomlplusplus)
pkg_check_modules(FFMPEG REQUIRED IMPORTED_TARGET libavformat libavcodec libswscale libswresample libavutil)
pkg_check_modules(VIPS REQUIRED IMPORTED_TARGET vips)
pkg_check_modules(SENTENCEPIECE REQUIRED IMPORTED_TARGET sentencepiece)
# libpq for the PostgreSQL store (scale-out: many nodes on one database).
pkg_check_modules(LIBPQ REQUIRED IMPORTED_TARGET libpq)
pkg_check_modules(LIBXML2 REQUIRED IMPORTED_TARGET libxml-2.0)
pkg_check_modules(LIBSYSTEMD REQUIRED IMPORTED_TARGET libsystemd)
# libtorch for the local engine: Debian's libtorch-dev (1.13, CPU) by default, or any libtorch
# given with -DTorch_DIR / CMAKE_PREFIX_PATH (e.g. the one inside a CUDA PyTorch install).
find_package(Torch REQUIRED)
if(WANSERVE_TESTS)
  find_package(GTest REQUIRED)
endif()
# The server allocates per request (Beast buffers, JSON); mimalloc is markedly faster than
# glibc's malloc there. Not with sanitizers, which bring their own allocator.
if(NOT WANSERVE_SANITIZE)
  find_package(mimalloc 2.0 REQUIRED)
endif()

# Mark the include directories of imported targets as SYSTEM.
function(wanserve_mark_system target)
  get_target_property(dirs ${target} INTERFACE_INCLUDE_DIRECTORIES)
  if(dirs)
    set_target_properties(${target} PROPERTIES INTERFACE_SYSTEM_INCLUDE_DIRECTORIES "${dirs}")
  endif()
endfunction()
foreach(t PkgConfig::TOMLPP PkgConfig::FFMPEG PkgConfig::VIPS PkgConfig::SENTENCEPIECE PkgConfig::LIBPQ PkgConfig::LIBXML2 torch torch_cpu torch_library c10)
  if(TARGET ${t})
    wanserve_mark_system(${t})
  endif()
endforeach()
