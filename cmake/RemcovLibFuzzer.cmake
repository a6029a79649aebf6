# SPDX-License-Identifier: Apache-2.0
# libFuzzer targets whose coverage feedback comes from remcov's per-input
# collectors (docs/fuzzing.md, docs/fuzzing-guide.md).
#
# The clash: libFuzzer's runtime (linked whole by -fsanitize=fuzzer) defines
# every __sanitizer_cov_trace_* callback strongly, and so does remcov's
# runtime. The way out, applied at link time only:
#  - the user's instrumented static libraries (built with
#    -fsanitize-coverage=trace-pc,trace-cmp) are copied with
#    `objcopy --redefine-syms`: their calls now go to __remcov_cov_trace_*;
#  - remcov's runtime defines those names as aliases of its callbacks
#    (src/runtime/callbacks.cc). The copy of the runtime linked into fuzz
#    targets (remcov::runtime_libfuzzer) has its __sanitizer_cov_* names made
#    local (`objcopy --localize-symbols`), so libFuzzer's are the only global
#    ones;
#  - libFuzzer and the uninstrumented harness are linked unmodified.
#
# Functions:
#   remcov_libfuzzer_supported(<var>)
#       <var> = TRUE when the C++ compiler links -fsanitize=fuzzer and an
#       objcopy is known (clang; g++ has no libFuzzer).
#   remcov_libfuzzer_rename(<new_target> <static_library_target>)
#       An IMPORTED static library: a copy of the library's archive whose
#       coverage callbacks are renamed. It carries no link dependencies.
#   remcov_add_libfuzzer_target(<name>
#       SOURCES <harness sources...>
#       INSTRUMENTED <static library targets...>
#       [LINK_LIBRARIES <uninstrumented libraries...>])
#       A libFuzzer executable: SOURCES are compiled without coverage, the
#       INSTRUMENTED libraries are linked as renamed copies, then
#       remcov::libfuzzer (the adaptor and the renamed runtime), then
#       LINK_LIBRARIES. Never list remcov::remcov or remcov::runtime (directly
#       or through a dependency): their __sanitizer_cov_* definitions clash
#       with libFuzzer's, and the link fails with "multiple definition".
include_guard(GLOBAL)
include(CheckCXXSourceCompiles)

# Writes the objcopy symbol lists and returns their paths. The list is kept
# in the function: include_guard(GLOBAL) means a directory-scope variable
# set here would not be seen from sibling directories.
function(_remcov_libfuzzer_symbol_files rename_var localize_var)
  # The callbacks -fsanitize-coverage=trace-pc,trace-cmp emits
  # (src/runtime/sancov_callbacks.inc, the one list).
  remcov_sancov_callbacks(callbacks)
  set(dir "${CMAKE_BINARY_DIR}/remcov_libfuzzer")
  set(rename "")
  set(localize "")
  foreach(cb IN LISTS callbacks)
    # trace_pc goes to the entry that also counts in counters mode
    # (src/runtime/callbacks.cc), which the adaptor enables.
    if(cb STREQUAL "trace_pc")
      string(APPEND rename
        "__sanitizer_cov_trace_pc __remcov_cov_trace_pc_counting\n")
    else()
      string(APPEND rename "__sanitizer_cov_${cb} __remcov_cov_${cb}\n")
    endif()
    string(APPEND localize "__sanitizer_cov_${cb}\n")
  endforeach()
  # The trace-pc-guard callbacks (unique mode, clang) have no aliases: they
  # are only made local, because libFuzzer defines them too.
  foreach(cb IN ITEMS trace_pc_guard trace_pc_guard_init)
    string(APPEND localize "__sanitizer_cov_${cb}\n")
  endforeach()
  file(CONFIGURE OUTPUT "${dir}/rename.syms" CONTENT "${rename}")
  file(CONFIGURE OUTPUT "${dir}/localize.syms" CONTENT "${localize}")
  set(${rename_var} "${dir}/rename.syms" PARENT_SCOPE)
  set(${localize_var} "${dir}/localize.syms" PARENT_SCOPE)
endfunction()

function(remcov_libfuzzer_supported out)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang" OR NOT CMAKE_OBJCOPY)
    set(${out} FALSE PARENT_SCOPE)
    return()
  endif()
  set(CMAKE_REQUIRED_FLAGS -fsanitize=fuzzer)
  check_cxx_source_compiles([[
    #include <stddef.h>
    #include <stdint.h>
    extern "C" int LLVMFuzzerTestOneInput(const uint8_t*, size_t) { return 0; }
  ]] REMCOV_LIBFUZZER_LINKS)
  set(${out} ${REMCOV_LIBFUZZER_LINKS} PARENT_SCOPE)
endfunction()

function(remcov_libfuzzer_rename new lib)
  _remcov_libfuzzer_symbol_files(rename localize)
  set(out "${CMAKE_CURRENT_BINARY_DIR}/lib${new}.a")
  add_custom_command(OUTPUT "${out}"
    COMMAND ${CMAKE_OBJCOPY} --redefine-syms=${rename} $<TARGET_FILE:${lib}>
            ${out}
    DEPENDS ${lib} $<TARGET_FILE:${lib}> ${rename}
    COMMENT "remcov: ${new}: ${lib} with __sanitizer_cov_* renamed"
    VERBATIM)
  add_custom_target(${new}_objcopy DEPENDS "${out}")
  add_library(${new} STATIC IMPORTED GLOBAL)
  set_target_properties(${new} PROPERTIES IMPORTED_LOCATION "${out}")
  add_dependencies(${new} ${new}_objcopy)
endfunction()

function(remcov_add_libfuzzer_target name)
  cmake_parse_arguments(A "" "" "SOURCES;INSTRUMENTED;LINK_LIBRARIES" ${ARGN})
  if(NOT TARGET remcov::libfuzzer)
    message(FATAL_ERROR "remcov_add_libfuzzer_target(${name}): "
      "remcov::libfuzzer is missing (it needs clang's libFuzzer)")
  endif()
  set(renamed "")
  foreach(lib IN LISTS A_INSTRUMENTED)
    string(REPLACE "::" "_" flat "${lib}")
    set(copy "${name}_${flat}_remcov")
    remcov_libfuzzer_rename(${copy} ${lib})
    list(APPEND renamed ${copy})
  endforeach()
  add_executable(${name} ${A_SOURCES})
  # The harness itself is not instrumented; -fsanitize=fuzzer at link time
  # only adds libFuzzer (with its main).
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  target_link_libraries(${name} PRIVATE ${renamed} remcov::libfuzzer
    ${A_LINK_LIBRARIES})
endfunction()
