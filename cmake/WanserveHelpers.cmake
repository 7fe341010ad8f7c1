# wanserve_library(<name> SOURCES ... [PUBLIC_DEPS ...] [PRIVATE_DEPS ...])
# One library per concern; the folder's public headers are included as "<folder>/<header>.h"
# relative to src/.
function(wanserve_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${name} PUBLIC ${ARG_PUBLIC_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
endfunction()

# wanserve_test(<name> SOURCES ... DEPS ... [LABELS ...] [TIMEOUT s] [POSTGRES])
# A GoogleTest binary whose cases are registered with ctest one by one.
function(wanserve_test name)
  if(NOT WANSERVE_TESTS)
    return()
  endif()
  # POSTGRES: the tests use the run's PostgreSQL server (src/testing/postgres_cluster.h).
  cmake_parse_arguments(ARG "POSTGRES" "TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main)
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  set(props TIMEOUT ${ARG_TIMEOUT})
  if(ARG_LABELS)
    list(APPEND props LABELS "${ARG_LABELS}")
  endif()
  if(ARG_POSTGRES)
    list(APPEND props FIXTURES_REQUIRED postgres)
  endif()
  gtest_discover_tests(${name}
    PROPERTIES ${props}
    ENVIRONMENT "WANSERVE_BINARY=$<TARGET_FILE:wanserve>"
    DISCOVERY_TIMEOUT 60)
endfunction()
