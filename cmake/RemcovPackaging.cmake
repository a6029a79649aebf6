# SPDX-License-Identifier: Apache-2.0
# What an installed remcov carries beyond the targets, and the Debian package:
#  - man page: remcov(1), generated from docs/tools/remcov.md by go-md2man;
#  - remcov.pc for pkg-config (relocatable: paths relative to ${pcfiledir});
#  - the docs and a Debian copyright file under share/doc/remcov;
#  - CPack: `cpack -G DEB` in the build tree writes remcov_<version>_<arch>.deb.
# tests/package builds that package and checks it (label package).
#
# The man page generator: go-md2man (Debian package go-md2man, 1.8 MB
# installed, what Docker, Podman and runc build their man pages with) over
# pandoc (168 MB installed with pandoc-data) or a converter of our own: it
# renders everything docs/tools/remcov.md uses (tables through tbl, fenced
# code, nested lists). RemcovManPage.cmake adds the .TH line and drops link
# targets, which point into the source tree.
include_guard(GLOBAL)

set(REMCOV_PACKAGE_MAINTAINER "remcov maintainers <maintainers@remcov.invalid>"
  CACHE STRING "Maintainer field of the Debian package")

# --- man page -----------------------------------------------------------------
set(REMCOV_MAN_PAGE "")
if(REMCOV_BUILD_TOOLS)
  find_program(REMCOV_GO_MD2MAN go-md2man)
  find_program(REMCOV_GZIP gzip)
  if(REMCOV_GO_MD2MAN AND REMCOV_GZIP)
    set(REMCOV_MAN_PAGE "${PROJECT_BINARY_DIR}/man/remcov.1.gz")
    add_custom_command(OUTPUT "${REMCOV_MAN_PAGE}"
      COMMAND ${CMAKE_COMMAND} -DIN=${PROJECT_SOURCE_DIR}/docs/tools/remcov.md
              -DOUT=${REMCOV_MAN_PAGE} -DGO_MD2MAN=${REMCOV_GO_MD2MAN}
              -DGZIP=${REMCOV_GZIP} -DVERSION=${PROJECT_VERSION}
              -P ${PROJECT_SOURCE_DIR}/cmake/RemcovManPage.cmake
      DEPENDS ${PROJECT_SOURCE_DIR}/docs/tools/remcov.md
              ${PROJECT_SOURCE_DIR}/cmake/RemcovManPage.cmake
      COMMENT "Generating remcov(1) from docs/tools/remcov.md" VERBATIM)
    add_custom_target(remcov_man ALL DEPENDS "${REMCOV_MAN_PAGE}")
    install(FILES "${REMCOV_MAN_PAGE}" DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
  elseif("$ENV{CI}" STREQUAL "true")
    message(FATAL_ERROR "remcov: go-md2man not found: the man page remcov(1) "
      "is generated from docs/tools/remcov.md with it. Install the Debian "
      "package go-md2man (scripts/setup.sh does).")
  else()
    message(WARNING "remcov: go-md2man not found: no man page, and the "
      "'package' test is not registered (apt-get install go-md2man, or "
      "scripts/setup.sh)")
  endif()
endif()

# --- pkg-config -----------------------------------------------------------------
# Libs: the C++ client's archives and the shared runtime (libremcov_rt.so).
# Libs.private: what the static runtime archive needs besides, for
# `pkg-config --static`, which a user pairs with -Wl,-Bstatic ... -Wl,-Bdynamic,
# or with -static for a statically linked program (libremcov_rt.a is the
# static runtime under the shared one's name). libpthread and libdl are part
# of libc since glibc 2.34 (Debian 12 has 2.36).
# The static runtime's link options: exports for instrumented shared objects
# and the static-program options (RemcovHelpers,
# remcov_static_runtime_link_options).
remcov_static_runtime_link_options(_remcov_pc_export_flags)
list(JOIN _remcov_pc_export_flags " " _remcov_pc_export_flags)
file(RELATIVE_PATH _remcov_pc_to_prefix
  "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
configure_file(${PROJECT_SOURCE_DIR}/cmake/remcov.pc.in
  "${PROJECT_BINARY_DIR}/remcov.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/remcov.pc"
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
install(CODE "file(MAKE_DIRECTORY
  \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}\")
file(CREATE_LINK libremcov_runtime.a
  \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/libremcov_rt.a\"
  SYMBOLIC)")

# --- docs -------------------------------------------------------------------------
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/docs
  FILES_MATCHING PATTERN "*.md")
install(FILES ${PROJECT_SOURCE_DIR}/cmake/debian-copyright
  DESTINATION ${CMAKE_INSTALL_DOCDIR} RENAME copyright)

# --- the Debian package -------------------------------------------------------------
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME remcov)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "${REMCOV_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "KCOV and KCOV Remote for user-space programs, and tools for kcov")
set(CPACK_PACKAGE_DESCRIPTION
  "A program built with -fsanitize-coverage=trace-pc,trace-cmp and linked with
remcov's runtime gets what KCOV gives a kernel task, through the kernel's own
ABI; coverage produced on its behalf by worker threads and signal handlers is
attributed to the collector that asked for it, as KCOV Remote does. The
package holds the remcov command (trace, report, diff), the runtime (static
and shared), the C++ client, headers, a CMake package, remcov.pc and
remcov(1).")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # remcov_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
# Depends: from dpkg-shlibdeps over the installed ELF files (libc6,
# libstdc++6, libdw1, libelf1, libcapstone4 on Debian 12; tests/package
# checks each DT_NEEDED against it), and the -dev packages below.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# shlibs and the ldconfig trigger for libremcov_rt.so.
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
# Depends that dpkg-shlibdeps cannot see: remcov::symbolize is a static
# archive, and a find_package(remcov) consumer that links it links the
# libraries of its exported INTERFACE_LINK_LIBRARIES by path
# (/usr/lib/<triplet>/libdw.so, libelf.so, libcapstone.so, libiberty.a on
# Debian 12): files that only the -dev packages hold. Each path's package is
# asked of dpkg-query, so the list is what the build really links; CPack
# appends the shlibdeps result to it. tests/package checks both.
set(REMCOV_DEB_DEV_DEPENDS "")
if(TARGET remcov_symbolize)
  find_program(REMCOV_DPKG_QUERY dpkg-query)
  get_target_property(_remcov_sym_libs remcov_symbolize INTERFACE_LINK_LIBRARIES)
  foreach(_lib IN LISTS _remcov_sym_libs)
    string(REGEX REPLACE "^\\$<LINK_ONLY:(.*)>$" "\\1" _lib "${_lib}")
    if(NOT IS_ABSOLUTE "${_lib}")
      continue()  # a target of this project (remcov::base)
    endif()
    set(_owner "")
    if(REMCOV_DPKG_QUERY)
      execute_process(COMMAND ${REMCOV_DPKG_QUERY} -S "${_lib}"
        OUTPUT_VARIABLE _owner ERROR_QUIET RESULT_VARIABLE _rc)
      if(_rc EQUAL 0)
        # "libdw-dev:amd64: /usr/lib/x86_64-linux-gnu/libdw.so"
        string(REGEX REPLACE "^([^:, ]+).*" "\\1" _owner "${_owner}")
      else()
        set(_owner "")
      endif()
    endif()
    if(_owner)
      list(APPEND REMCOV_DEB_DEV_DEPENDS ${_owner})
    else()
      message(STATUS "remcov: no Debian package owns ${_lib}: the .deb does "
        "not declare it (remcov::symbolize consumers need it)")
    endif()
  endforeach()
  list(REMOVE_DUPLICATES REMCOV_DEB_DEV_DEPENDS)
  list(JOIN REMCOV_DEB_DEV_DEPENDS ", " CPACK_DEBIAN_PACKAGE_DEPENDS)
endif()
# genhtml for `remcov report --html`; a compiler and pkg-config for consumers.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "lcov")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "g++ | clang, pkgconf, cmake")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# The tool and the shared runtime without their debug info, as Debian ships
# binaries (the package of a RelWithDebInfo build at 0.1.0: 4.1 MB unstripped,
# 1.4 MB stripped). install() strips no static archive.
set(CPACK_STRIP_FILES TRUE)
set(CPACK_PACKAGE_DIRECTORY "${PROJECT_BINARY_DIR}/package")
include(CPack)
