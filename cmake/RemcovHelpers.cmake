# SPDX-License-Identifier: Apache-2.0
# Uniform flags for remcov's own targets. Nothing here touches global flags:
# consumers of the installed package see only target properties.
include_guard(GLOBAL)
find_package(Threads REQUIRED)
include(GoogleTest OPTIONAL)

# Warnings for remcov's own code.
function(remcov_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wshadow -Wconversion
    -Wno-sign-conversion)
  if(REMCOV_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  # clang 14 defaults to DWARF 5, which Debian 12's valgrind (3.19) cannot read:
  # the callgrind benchmarks need DWARF 4.
  if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    target_compile_options(${target} PRIVATE -gdwarf-4)
  endif()
endfunction()

# Strict test configuration. Under CI (CI=true in the environment: .ci/run and
# scripts/test-all.sh set it themselves) a lane whose tool is missing makes
# configure fail, never a dropped test group, and tests do not skip.
if("$ENV{CI}" STREQUAL "true")
  set(_remcov_strict_default ON)
else()
  set(_remcov_strict_default OFF)
endif()
option(REMCOV_STRICT_TESTS
  "Fail configure when a test lane's tool is missing (default: ON when CI=true)"
  ${_remcov_strict_default})

# remcov_lane_unavailable(LANE REASON...): a test lane cannot be registered.
# Fatal under REMCOV_STRICT_TESTS; a STATUS line otherwise. The REASON
# arguments are joined.
function(remcov_lane_unavailable lane)
  string(JOIN "" reason ${ARGN})
  if(REMCOV_STRICT_TESTS)
    message(FATAL_ERROR "remcov: the '${lane}' tests cannot be registered: "
      "${reason} (REMCOV_STRICT_TESTS is ON because CI=true or it was set; "
      "scripts/setup.sh installs every tool the lanes need.)")
  endif()
  message(STATUS "remcov: '${lane}' tests not registered: ${reason}")
endfunction()

# remcov_expect_failure(NAME name EXIT_CODE n MATCH regex COMMAND cmd...
#                       [LABELS ...]): a negative control. Passes only when
# the command exits with exactly EXIT_CODE and its output matches MATCH — a
# crash, a setup error or any other failure does not pass (WILL_FAIL would).
function(remcov_expect_failure)
  cmake_parse_arguments(A "" "NAME;EXIT_CODE;MATCH" "COMMAND;LABELS" ${ARGN})
  add_test(NAME ${A_NAME}
    COMMAND ${CMAKE_COMMAND} "-DEXPECT_EXIT=${A_EXIT_CODE}"
            "-DEXPECT_MATCH=${A_MATCH}" "-DCOMMAND=${A_COMMAND}"
            -P ${PROJECT_SOURCE_DIR}/cmake/expect_failure.cmake)
  if(A_LABELS)
    set_tests_properties(${A_NAME} PROPERTIES LABELS "${A_LABELS}")
  endif()
endfunction()

set(REMCOV_SANITIZE "" CACHE STRING
  "Sanitizers for remcov's own targets (e.g. address,undefined or thread)")

# Applies REMCOV_SANITIZE to one of remcov's targets (never to consumers).
function(remcov_sanitize target)
  if(REMCOV_SANITIZE)
    # -fno-sanitize=vptr: the libraries are built without RTTI, so UBSan's
    # vptr check (which needs typeinfo) cannot link against them.
    target_compile_options(${target} PRIVATE -fsanitize=${REMCOV_SANITIZE}
      -fno-omit-frame-pointer -fno-sanitize-recover=all -fno-sanitize=vptr)
    get_target_property(_type ${target} TYPE)
    if(NOT _type STREQUAL "OBJECT_LIBRARY" AND NOT _type STREQUAL "STATIC_LIBRARY")
      target_link_options(${target} PRIVATE -fsanitize=${REMCOV_SANITIZE}
        -fno-sanitize=vptr)
    endif()
  endif()
endfunction()

# remcov_install(TARGETS ... [CMAKE_FILES ...]): installs libraries into the
# remcovTargets export set (what remcovConfig.cmake imports, as
# remcov::<EXPORT_NAME>) and CMake helper files beside remcovConfig.cmake;
# nothing unless REMCOV_INSTALL.
function(remcov_install)
  cmake_parse_arguments(A "" "" "TARGETS;CMAKE_FILES" ${ARGN})
  if(NOT REMCOV_INSTALL)
    return()
  endif()
  install(TARGETS ${A_TARGETS} EXPORT remcovTargets
          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
          LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
          INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  if(A_CMAKE_FILES)
    install(FILES ${A_CMAKE_FILES} DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/remcov)
  endif()
endfunction()

# remcov_cc_library(NAME name SRCS ... DEPS ... [OBJECT] [RUNTIME])
# RUNTIME marks hot runtime code: no coverage instrumentation of itself, no
# exceptions or RTTI, initial-exec TLS, no static constructors.
function(remcov_cc_library)
  cmake_parse_arguments(A "OBJECT;RUNTIME;SHARED" "NAME;TLS_MODEL" "SRCS;DEPS;PUBLIC_DEPS" ${ARGN})
  set(kind STATIC)
  if(A_OBJECT)
    set(kind OBJECT)
  elseif(A_SHARED)
    set(kind SHARED)
  endif()
  if(NOT A_TLS_MODEL)
    set(A_TLS_MODEL initial-exec)
  endif()
  add_library(${A_NAME} ${kind} ${A_SRCS})
  add_library(remcov::${A_NAME} ALIAS ${A_NAME})
  target_compile_features(${A_NAME} PUBLIC cxx_std_20)
  target_include_directories(${A_NAME}
    PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
           $<BUILD_INTERFACE:${PROJECT_BINARY_DIR}/include>
           $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>
    PRIVATE ${PROJECT_SOURCE_DIR}/src)
  set_target_properties(${A_NAME} PROPERTIES POSITION_INDEPENDENT_CODE ON
    CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
  target_compile_options(${A_NAME} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-fno-exceptions -fno-rtti>)
  remcov_warnings(${A_NAME})
  remcov_sanitize(${A_NAME})
  if(A_RUNTIME)
    # local-exec for the static runtime (linked into executables: one
    # %fs-relative access); initial-exec for the shared one.
    target_compile_options(${A_NAME} PRIVATE -ftls-model=${A_TLS_MODEL}
      -fno-stack-protector -Wframe-larger-than=4096)
    if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
      target_compile_options(${A_NAME} PRIVATE -Wglobal-constructors)
    endif()
  endif()
  if(A_DEPS)
    target_link_libraries(${A_NAME} PRIVATE ${A_DEPS})
  endif()
  if(A_PUBLIC_DEPS)
    target_link_libraries(${A_NAME} PUBLIC ${A_PUBLIC_DEPS})
  endif()
endfunction()

# remcov_cc_test(NAME name SRCS ... DEPS ... LABELS ... [PROPERTIES ...])
# PROPERTIES are extra ctest properties of every discovered test.
function(remcov_cc_test)
  cmake_parse_arguments(A "" "NAME" "SRCS;DEPS;LABELS;PROPERTIES" ${ARGN})
  add_executable(${A_NAME} ${A_SRCS})
  target_include_directories(${A_NAME} PRIVATE ${PROJECT_SOURCE_DIR}/src
    ${PROJECT_SOURCE_DIR}/tests)
  target_link_libraries(${A_NAME} PRIVATE ${A_DEPS} GTest::gtest GTest::gtest_main
    Threads::Threads)
  remcov_warnings(${A_NAME})
  remcov_sanitize(${A_NAME})
  gtest_discover_tests(${A_NAME} PROPERTIES ${A_PROPERTIES}
    DISCOVERY_TIMEOUT 60)
  # The labels go on in a ctest include file of their own, read after the
  # discovered tests (whose names gtest_discover_tests leaves in
  # ${A_NAME}_TESTS). Passed as PROPERTIES LABELS, a list of several labels
  # reaches the generated set_tests_properties() split ("LABELS a b": label a
  # and a stray property b), and no escaping survives CMake 3.25's
  # POST_BUILD discovery (cmake_parse_arguments, then -D on a command line).
  if(A_LABELS)
    set(_file "${CMAKE_CURRENT_BINARY_DIR}/${A_NAME}_labels.cmake")
    file(WRITE "${_file}" "if(${A_NAME}_TESTS)\n  set_tests_properties("
      "\${${A_NAME}_TESTS} PROPERTIES LABELS [==[${A_LABELS}]==])\nendif()\n")
    set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${_file}")
  endif()
endfunction()

# The SanitizerCoverage callbacks the runtime defines and aliases, read from
# their one list, src/runtime/sancov_callbacks.inc (names without the
# __sanitizer_cov_ prefix).
function(remcov_sancov_callbacks out)
  set(inc "${PROJECT_SOURCE_DIR}/src/runtime/sancov_callbacks.inc")
  file(STRINGS "${inc}" lines REGEX "^REMCOV_SANCOV_CALLBACK\\(")
  set(names "")
  foreach(line IN LISTS lines)
    string(REGEX REPLACE "^REMCOV_SANCOV_CALLBACK\\(([a-z0-9_]+),.*" "\\1"
      name "${line}")
    list(APPEND names "${name}")
  endforeach()
  if(NOT names)
    message(FATAL_ERROR "no callbacks found in ${inc}")
  endif()
  set(${out} "${names}" PARENT_SCOPE)
endfunction()

# What an executable linked with the static runtime (remcov::runtime) exports
# from its dynamic symbol table, so that an instrumented shared object it loads
# (DT_NEEDED or dlopen) binds its __sanitizer_cov_* calls, and its remcov_*
# calls, to the executable's runtime. Without it the loader fails with
# "undefined symbol: __sanitizer_cov_trace_const_cmp4". The names come from
# their lists (the callbacks of src/runtime/sancov_callbacks.inc plus the
# trace-pc-guard pair and trace_pc's counting entry; the REMCOV_C_API
# functions of include/remcov/remcov.h),
# spelled out rather than as globs: pkg-config escapes a `*` as `\*`, which
# the linker then takes literally. Used by the CMake target's usage
# requirement (src/CMakeLists.txt) and by remcov.pc's static link line
# (cmake/RemcovPackaging.cmake).
function(remcov_runtime_export_flags out)
  remcov_sancov_callbacks(callbacks)
  list(APPEND callbacks trace_pc_guard trace_pc_guard_init)
  set(syms "")
  foreach(cb IN LISTS callbacks)
    list(APPEND syms "__sanitizer_cov_${cb}")
  endforeach()
  # trace_pc's counters-mode entry (include/remcov/counting.h).
  list(APPEND syms "__remcov_cov_trace_pc_counting")
  file(STRINGS "${PROJECT_SOURCE_DIR}/include/remcov/remcov.h" api
    REGEX "^REMCOV_C_API [^(]*[ *]remcov_[a-z0-9_]+\\(")
  foreach(line IN LISTS api)
    string(REGEX REPLACE "^REMCOV_C_API [^(]*[ *](remcov_[a-z0-9_]+)\\(.*" "\\1"
      name "${line}")
    list(APPEND syms "${name}")
  endforeach()
  if(NOT api)
    message(FATAL_ERROR "no REMCOV_C_API functions found in remcov.h")
  endif()
  set(flags "")
  foreach(sym IN LISTS syms)
    list(APPEND flags "-Wl,--export-dynamic-symbol=${sym}")
  endforeach()
  set(${out} "${flags}" PARENT_SCOPE)
endfunction()

# Statically linked programs (-static, -static-pie) with the static runtime
# (src/runtime/interpose_linux.cc, "The real implementations"):
#  -Wl,--undefined=__pthread_create  links libc.a's nptl/pthread_create.o,
#      whose __pthread_create_2_1 and __libc_sigaction (which it calls) are
#      the real functions behind the runtime's pthread_create and sigaction.
#      A dynamic link has no such symbol to find and ignores it.
#  -Wl,--undefined=_IO_new_proc_open  the same for the functions behind
#      the runtime's exec family and posix_spawn: it links libc.a's
#      iopopen.o, which calls __posix_spawn, which links __spawni, __execve
#      and __execvpe (src/runtime/interpose_exec.cc). A dynamic link finds
#      no such symbol (libc.so.6 exports _IO_proc_open) and ignores it.
#  -Wl,--defsym=<marker>=0  defines the symbol the static runtime references
#      (REMCOV_STATIC_LINK_MARKER, compiled into it), so that a program linked
#      without these options, dynamic or static, fails at link time with
#      "undefined reference to `<marker>'", a name that says where the options
#      come from, never at run time.
set(REMCOV_STATIC_LINK_MARKER
  remcov_static_runtime_link_options_missing__use_pkg_config_libs_static_or_cmake_remcov_runtime)

# Every link option of the static runtime, remcov::runtime's usage requirement
# (src/CMakeLists.txt) and remcov.pc's Libs.private (RemcovPackaging.cmake):
# the exports above plus the static-program options.
function(remcov_static_runtime_link_options out)
  remcov_runtime_export_flags(flags)
  list(APPEND flags "-Wl,--undefined=__pthread_create"
    "-Wl,--undefined=_IO_new_proc_open"
    "-Wl,--defsym=${REMCOV_STATIC_LINK_MARKER}=0")
  set(${out} "${flags}" PARENT_SCOPE)
endfunction()
