# SPDX-License-Identifier: Apache-2.0
# AFL++ targets whose coverage map is filled from remcov's per-input
# collector (docs/afl.md). afl-fuzz links nothing into the target, so unlike
# libFuzzer (RemcovLibFuzzer.cmake) nothing is renamed: the instrumented
# libraries call remcov's runtime as in any remcov build.
#
#   remcov_add_afl_target(<name>
#       SOURCES <harness sources...>
#       INSTRUMENTED <static library targets...>
#       [LINK_LIBRARIES <uninstrumented libraries...>]
#       [FORKSERVER])
#       An executable for afl-fuzz: the harness (LLVMFuzzerTestOneInput and,
#       optionally, LLVMFuzzerInitialize; not instrumented) with
#       remcov::afl_driver's main(). The INSTRUMENTED libraries are built
#       with -fsanitize-coverage=trace-pc,trace-cmp (remcov's usual flags)
#       and linked before remcov's runtime. Persistent mode by default;
#       FORKSERVER links remcov::afl_driver_forkserver instead, whose binary
#       lacks AFL++'s persistent signature: afl-fuzz forks once per input.
include_guard(GLOBAL)

function(remcov_add_afl_target name)
  cmake_parse_arguments(A "FORKSERVER" "" "SOURCES;INSTRUMENTED;LINK_LIBRARIES"
    ${ARGN})
  set(driver remcov::afl_driver)
  if(A_FORKSERVER)
    set(driver remcov::afl_driver_forkserver)
  endif()
  if(NOT TARGET ${driver})
    message(FATAL_ERROR "remcov_add_afl_target(${name}): ${driver} is missing")
  endif()
  add_executable(${name} ${A_SOURCES})
  # The runtime must follow the instrumented archives on the link line.
  target_link_libraries(${name} PRIVATE ${A_INSTRUMENTED} ${driver}
    remcov::remcov ${A_LINK_LIBRARIES})
endfunction()
