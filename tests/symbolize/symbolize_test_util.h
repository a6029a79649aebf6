// SPDX-License-Identifier: Apache-2.0
// Helpers for the symbolizer and site tests: running binutils on a file, and
// parsing `addr2line -a -f -i` output.
#ifndef REMCOV_TESTS_SYMBOLIZE_SYMBOLIZE_TEST_UTIL_H_
#define REMCOV_TESTS_SYMBOLIZE_SYMBOLIZE_TEST_UTIL_H_

#include <stdint.h>

#include <map>
#include <string>
#include <vector>

#include "remcov/symbolize.h"

namespace remcov::testing {

// True when `tool` is on PATH.
bool HaveTool(const std::string& tool);
// Runs `command` through sh with `input` on its stdin; returns its stdout.
// Sets *ok to whether it exited 0.
std::string RunWithInput(const std::string& command, const std::string& input,
                         bool* ok);
// The path of this test executable.
std::string SelfPath();

// Parses `addr2line -a -f -i` output (an "0x..." line before each address's
// frames) into frames per address. "file:?" and "??:0" both give line 0; a
// " (discriminator N)" suffix is dropped (SourceFrame has no discriminator).
std::map<uint64_t, SourceFrames> ParseAddr2line(const std::string& text);

// Defined function symbols (address, size > 0) of an ELF file, from nm.
std::vector<std::pair<uint64_t, uint64_t>> FunctionSymbols(
    const std::string& elf);

// `count` deterministic addresses inside the given functions (seeded).
std::vector<uint64_t> AddressesInside(
    const std::vector<std::pair<uint64_t, uint64_t>>& functions, size_t count,
    uint32_t seed);

// The vmlinux of the kernel lane, or "" when there is none.
std::string KernelVmlinux();

// "[function @ file:line] ..." for messages.
std::string Show(const SourceFrames& frames);

struct Comparison {
  size_t total = 0;
  size_t mismatched = 0;           // addresses claimed by at most one CU
  size_t multi_cu = 0;             // addresses claimed by several CUs
  size_t multi_cu_mismatched = 0;  // ... where addr2line differs
  size_t file_one = 0;             // addr2line 2.40's DWARF 5 file-register bug
  size_t history_line = 0;  // line 0 in the sequence, remcov's line alone
  std::string examples;
};

// Symbolizes `addresses` (sorted first, as addr2line reads them: its names
// for functions without a linkage name depend on order) with one addr2line
// process and with OpenWithBfdHistory, and compares every frame.
Comparison CompareWithAddr2line(const std::string& elf,
                                std::vector<uint64_t> addresses);
// Exact on every address one CU claims, except addr2line's DWARF 5 file-1
// bug (bounded); on COMDAT copies claimed by several CUs, at most 1% differ.
void ExpectEqual(const Comparison& c);

// The SiteKind (as int) of a callback's symbol name (an @plt or version
// suffix and the __remcov_cov_ alias prefix allowed), or -1.
int KindOf(const std::string& name);

// GOT slots (`objdump -R`) bound to a callback: slot address -> KindOf.
std::map<uint64_t, int> ObjdumpCallbackSlots(const std::string& elf);

using SiteMap = std::map<uint64_t, SiteKind>;
// Sites from `objdump -d` and `objdump -R` alone (see the .cc).
SiteMap ObjdumpSites(const std::string& elf);

}  // namespace remcov::testing

#endif  // REMCOV_TESTS_SYMBOLIZE_SYMBOLIZE_TEST_UTIL_H_
