# SPDX-License-Identifier: Apache-2.0
file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix}
                RESULT_VARIABLE r)
if(r)
  message(FATAL_ERROR "install failed: ${r}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -S ${CONSUMER_DIR} -B ${WORK_DIR}/build
                  -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_CXX_COMPILER=${CXX}
                  -DCMAKE_C_COMPILER=${CC}
                  -DSTATIC_PROGRAM_DIR=${STATIC_PROGRAM_DIR}
                RESULT_VARIABLE r)
if(r)
  message(FATAL_ERROR "consumer configure failed: ${r}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${WORK_DIR}/build RESULT_VARIABLE r)
if(r)
  message(FATAL_ERROR "consumer build failed: ${r}")
endif()
execute_process(COMMAND ${WORK_DIR}/build/consumer RESULT_VARIABLE r
                OUTPUT_VARIABLE out)
message("${out}")
if(r OR NOT out MATCHES "consumer: [1-9][0-9]* pcs, plugin: [1-9][0-9]* pcs")
  message(FATAL_ERROR "consumer run failed: ${r}")
endif()
# Every installed header is usable: the symbolizer finds its own source.
execute_process(COMMAND ${WORK_DIR}/build/symbolize_consumer RESULT_VARIABLE r
                OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(r OR NOT out MATCHES "symbolize_consumer: consumer_probe at [^\n]*symbolize_consumer[.]cc:1[23]\n")
  message(FATAL_ERROR "symbolize_consumer failed: ${r}")
endif()
# The AFL++ target: persistent (AFL++'s signature is in the binary), and it
# runs an input by hand.
file(STRINGS ${WORK_DIR}/build/consumer_afl sig REGEX "##SIG_AFL_PERSISTENT##")
if(NOT sig)
  message(FATAL_ERROR "consumer_afl lacks AFL++'s persistent signature")
endif()
file(WRITE ${WORK_DIR}/afl_input "hello")
execute_process(COMMAND ${WORK_DIR}/build/consumer_afl ${WORK_DIR}/afl_input
                RESULT_VARIABLE r)
if(r)
  message(FATAL_ERROR "consumer_afl failed on an input: ${r}")
endif()
message("consumer_afl: ran an input")
# The statically linked consumer (it checks that no dynamic loader mapped it):
# threads inherit the common handle and handlers are wrapped, as in a dynamic
# program.
execute_process(COMMAND ${WORK_DIR}/build/static_consumer RESULT_VARIABLE r
                OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(r OR NOT out MATCHES "static program: ok")
  message(FATAL_ERROR "static_consumer failed: ${r}")
endif()
