# SPDX-License-Identifier: Apache-2.0
# cmake -DEXPECT_EXIT=N -DEXPECT_MATCH=REGEX -DCOMMAND=cmd;args -P expect_failure.cmake
# A negative control's verdict (remcov_expect_failure in RemcovHelpers.cmake):
# the command must exit with exactly EXPECT_EXIT and print something matching
# EXPECT_MATCH (stdout and stderr together). Anything else fails: a crash, a
# missing binary, a different failure.
if(NOT DEFINED EXPECT_EXIT OR NOT DEFINED EXPECT_MATCH OR NOT COMMAND)
  message(FATAL_ERROR "expect_failure: EXPECT_EXIT, EXPECT_MATCH and COMMAND are required")
endif()
execute_process(COMMAND ${COMMAND} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                ERROR_VARIABLE out)
message("${out}")
if(NOT "${rc}" STREQUAL "${EXPECT_EXIT}")
  message(FATAL_ERROR "expect_failure: exit '${rc}', expected ${EXPECT_EXIT}")
endif()
if(NOT out MATCHES "${EXPECT_MATCH}")
  message(FATAL_ERROR "expect_failure: exit ${rc} as expected, but the output "
    "does not match '${EXPECT_MATCH}'")
endif()
message("expect_failure: exit ${rc} and '${EXPECT_MATCH}' as expected")
