# SPDX-License-Identifier: Apache-2.0
# cmake -DIN=docs/tools/remcov.md -DOUT=remcov.1.gz -DGO_MD2MAN=... -DGZIP=...
#       -DVERSION=x.y.z -P RemcovManPage.cmake
# remcov(1) from its Markdown source (cmake/RemcovPackaging.cmake says why
# go-md2man). Before conversion the first line `# remcov(1)` becomes the title
# block go-md2man turns into .TH, and links keep their text only (their
# targets are paths in the source tree). After it, tables are fixed up (below)
# and a `'\" t` first line tells man to run tbl, which they need.
foreach(v IN ITEMS IN OUT GO_MD2MAN GZIP VERSION)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "RemcovManPage.cmake: -D${v}= is required")
  endif()
endforeach()
file(READ "${IN}" md)
string(FIND "${md}" "# remcov(1)\n" at)
if(NOT at EQUAL 0)
  message(FATAL_ERROR "${IN} must start with the line '# remcov(1)'")
endif()
string(REPLACE "# remcov(1)\n"
  "% REMCOV 1 \"\" \"remcov ${VERSION}\" \"User Commands\"\n" md "${md}")
string(REGEX REPLACE "\\[([^]\n]*)\\]\\([^)\n]*\\)" "\\1" md "${md}")
get_filename_component(dir "${OUT}" DIRECTORY)
set(tmp "${OUT}.tmp")
file(WRITE "${tmp}.md" "${md}")
execute_process(COMMAND "${GO_MD2MAN}" -in "${tmp}.md" -out "${tmp}.roff"
                RESULT_VARIABLE r)
if(r)
  message(FATAL_ERROR "go-md2man failed on ${IN}: ${r}")
endif()
file(READ "${tmp}.roff" roff)
# go-md2man 2.0.2 wraps a table cell in a text block (T{ ... T}) only when its
# first piece of text is longer than 30 characters, so a long cell that starts
# with `code` overflows the page. Wrap every cell after the first (tabs occur
# only in tables), and let the last column take the rest of the line.
string(REPLACE "\tT{\n" "\t@REMCOV_BLOCK@\n" roff "${roff}")
string(REGEX REPLACE "\t([^@\n][^\n]*)\n" "\tT{\n\\1\nT}\n" roff "${roff}")
string(REPLACE "\t@REMCOV_BLOCK@\n" "\tT{\n" roff "${roff}")
string(REPLACE "l l \nl l .\n" "l lx \nl lx .\n" roff "${roff}")
file(WRITE "${tmp}" "'\\\" t\n${roff}")
# -n: no name or time stamp in the header, so the output is reproducible.
execute_process(COMMAND "${GZIP}" -9nc "${tmp}" OUTPUT_FILE "${OUT}"
                RESULT_VARIABLE r)
if(r)
  message(FATAL_ERROR "gzip failed: ${r}")
endif()
file(REMOVE "${tmp}" "${tmp}.md" "${tmp}.roff")
