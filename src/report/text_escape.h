// SPDX-License-Identifier: Apache-2.0
// Escaping for the text exports (Cobertura XML, JSONL): both must be UTF-8,
// while paths and symbol names from the load map and DWARF are bytes. A byte
// that does not start a valid UTF-8 sequence, and a character XML 1.0 does
// not allow (controls other than tab, newline, return; U+FFFE, U+FFFF), is
// written as U+FFFD and counted, so an export can say how many it replaced.
//
// Thread safety: pure functions.
#ifndef REMCOV_REPORT_TEXT_ESCAPE_H_
#define REMCOV_REPORT_TEXT_ESCAPE_H_

#include <stddef.h>
#include <stdint.h>

#include <string>
#include <string_view>

namespace remcov::tool {

// The length of the UTF-8 sequence at s[i] and its code point, or 0 if the
// bytes there are not one (truncated, overlong, a surrogate, > U+10FFFF).
// REQUIRES: i < s.size().
size_t DecodeUtf8(std::string_view s, size_t i, uint32_t* code_point);

bool IsUtf8(std::string_view s);

// Appends s as XML character data or attribute value (double quotes):
// & < > " escaped, newline, return and tab as character references (they
// survive attribute normalization). Returns the number of replaced bytes or
// characters.
size_t AppendXml(std::string_view s, std::string* out);

// Appends s as a JSON string, quotes included; controls as \u00XX. Returns
// the number of replaced bytes.
size_t AppendJsonString(std::string_view s, std::string* out);

}  // namespace remcov::tool

#endif  // REMCOV_REPORT_TEXT_ESCAPE_H_
