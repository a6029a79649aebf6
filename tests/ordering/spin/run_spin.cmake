# SPDX-License-Identifier: Apache-2.0
# Runs one Spin model variant and asserts the verdict. Invoked by ctest:
#   cmake -DSPIN=<spin> -DCC=<gcc> -DMODEL=<x.pml> -DDEFINES=<A,B>
#         -DEXPECT=pass|fail -DWORKDIR=<fresh dir> -P run_spin.cmake
# Steps, in WORKDIR (wiped first): spin -D... -a model.pml; cc pan.c; ./pan.
# EXPECT=pass: "errors: 0" (the state space was explored completely).
# EXPECT=fail: "assertion violated" and a trail file <model>.pml.trail
#              (replay: cd WORKDIR && spin -t -p <model>.pml).
cmake_minimum_required(VERSION 3.21)
foreach(var SPIN CC MODEL EXPECT WORKDIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_spin.cmake: ${var} not set")
  endif()
endforeach()

file(REMOVE_RECURSE "${WORKDIR}")
file(MAKE_DIRECTORY "${WORKDIR}")
get_filename_component(model_dir "${MODEL}" DIRECTORY)
get_filename_component(model_name "${MODEL}" NAME)
file(GLOB pml_files "${model_dir}/*.pml")
file(COPY ${pml_files} DESTINATION "${WORKDIR}")

set(dflags)
string(REPLACE "," ";" DEFINES "${DEFINES}")
foreach(d IN LISTS DEFINES)
  if(d)
    list(APPEND dflags "-D${d}")
  endif()
endforeach()

function(run what)
  execute_process(COMMAND ${ARGN} WORKING_DIRECTORY "${WORKDIR}"
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 120)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${out}\n${err}")
  endif()
  set(out "${out}" PARENT_SCOPE)
endfunction()

string(TIMESTAMP t0 "%s%f")
run("spin -a" "${SPIN}" ${dflags} -a "${model_name}")
# -DSAFETY: only safety properties (assertions, end states); -O0: the
# models are tiny, compiling pan.c dominates (0.9 s vs 3.8 s at -O2); -w: pan.c's
# generated code trips -Wstringop-overflow on array undo records.
run("cc pan.c" "${CC}" -O0 -w -DSAFETY -o pan pan.c)
string(TIMESTAMP t1 "%s%f")
# pan exits 0 even when it finds an error; the verdict is in its output.
# -w18: a 2^18-slot hash table (the default 2^24 costs ~0.7 s to allocate;
# the largest model here has ~10^4 states).
run("pan" ./pan -m100000 -w18)
string(TIMESTAMP t2 "%s%f")
math(EXPR build_ms "(${t1} - ${t0}) / 1000")
math(EXPR pan_ms "(${t2} - ${t1}) / 1000")

string(REGEX MATCH "([0-9]+) states, stored" _ "${out}")
set(states "${CMAKE_MATCH_1}")
string(REGEX MATCH "([0-9]+) transitions" _ "${out}")
set(transitions "${CMAKE_MATCH_1}")
string(REGEX MATCH "errors: ([0-9]+)" _ "${out}")
set(errors "${CMAKE_MATCH_1}")
string(REGEX MATCH "pan:[0-9]+: [^\n]*" violation "${out}")
message(STATUS "${model_name} ${DEFINES}: errors=${errors} states=${states} "
  "transitions=${transitions} build=${build_ms}ms pan=${pan_ms}ms ${violation}")

if(EXPECT STREQUAL "pass")
  if(NOT errors STREQUAL "0" OR NOT out MATCHES "errors: 0")
    message(FATAL_ERROR "expected no errors:\n${out}")
  endif()
elseif(EXPECT STREQUAL "fail")
  if(NOT out MATCHES "assertion violated")
    message(FATAL_ERROR "expected an assertion violation:\n${out}")
  endif()
  if(NOT EXISTS "${WORKDIR}/${model_name}.trail")
    message(FATAL_ERROR "assertion violated but no trail file ${model_name}.trail")
  endif()
  message(STATUS "trail: ${WORKDIR}/${model_name}.trail (spin -t -p ${model_name})")
else()
  message(FATAL_ERROR "run_spin.cmake: unknown EXPECT=${EXPECT}")
endif()
