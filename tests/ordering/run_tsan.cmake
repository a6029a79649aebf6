# SPDX-License-Identifier: Apache-2.0
# Runs one ThreadSanitizer harness binary (tsan_publish.cc) and checks its
# report. Invoked by ctest:
#   cmake -DEXE=<binary> -DMODE=move|append -DITERS=<n>
#         -DEXPECT=clean|race|blind [-DATTEMPTS=<n>] -P run_tsan.cmake
# EXPECT=clean : exit status 0 and no "WARNING: ThreadSanitizer" at all.
# EXPECT=race  : stderr contains "ThreadSanitizer: data race". TSan reports a
#                race only when both accesses run while the other thread has
#                not synchronized since, so a run is retried up to ATTEMPTS
#                times (measured: detected in 20 of 20 single runs per
#                mutation, mode and compiler; see docs/memory-ordering.md).
# EXPECT=blind : a lost-update mutation that is no data race: TSan must stay
#                silent (its known blind spot); the checker's verdict (exit 1
#                when it saw lost/duplicated entries) is printed, not asserted.
cmake_minimum_required(VERSION 3.21)
foreach(var EXE MODE ITERS EXPECT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_tsan.cmake: ${var} not set")
  endif()
endforeach()
if(NOT DEFINED ATTEMPTS)
  set(ATTEMPTS 1)
endif()

if(EXPECT STREQUAL "race")
  # Stop at the first report: the run ends as soon as the race is proven.
  set(ENV{TSAN_OPTIONS} "halt_on_error=1 exitcode=66")
else()
  set(ENV{TSAN_OPTIONS} "halt_on_error=0 exitcode=66")
endif()

foreach(attempt RANGE 1 ${ATTEMPTS})
  string(TIMESTAMP t0 "%s%f")
  execute_process(COMMAND "${EXE}" ${MODE} ${ITERS}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 120)
  string(TIMESTAMP t1 "%s%f")
  math(EXPR ms "(${t1} - ${t0}) / 1000")
  message(STATUS "attempt ${attempt}: exit=${rc} time=${ms}ms stdout: ${out}")
  if(EXPECT STREQUAL "race")
    if(err MATCHES "ThreadSanitizer: data race")
      string(REGEX MATCH "SUMMARY: ThreadSanitizer: data race[^\n]*" summary "${err}")
      message(STATUS "detected as expected on attempt ${attempt}: ${summary}")
      return()
    endif()
  elseif(EXPECT STREQUAL "clean")
    if(err MATCHES "ThreadSanitizer" OR NOT rc EQUAL 0)
      message(FATAL_ERROR "expected a clean run, got exit ${rc}:\n${err}")
    endif()
    message(STATUS "clean as expected")
    return()
  elseif(EXPECT STREQUAL "blind")
    if(err MATCHES "ThreadSanitizer" OR NOT (rc EQUAL 0 OR rc EQUAL 1))
      message(FATAL_ERROR "expected no TSan report (lost updates are no data "
        "race), got exit ${rc}:\n${err}")
    endif()
    message(STATUS "no TSan report, as expected for a lost update (checker exit ${rc})")
    return()
  else()
    message(FATAL_ERROR "run_tsan.cmake: unknown EXPECT=${EXPECT}")
  endif()
endforeach()
message(FATAL_ERROR "no ThreadSanitizer data race in ${ATTEMPTS} attempt(s); "
  "last exit ${rc}, stderr:\n${err}")
