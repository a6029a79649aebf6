// SPDX-License-Identifier: Apache-2.0
// Escaping for the text outputs (the JSON report, lcov, Cobertura XML,
// JSONL), in one place: paths and symbol names from the load map and DWARF
// are bytes. In the exports (Cobertura, JSONL), a byte that does not start a
// valid UTF-8 sequence, and a character XML 1.0 does not allow (controls
// other than tab, newline, return; U+FFFE, U+FFFF), is written as U+FFFD and
// counted, so an export can say how many it replaced; the JSON report
// escapes such bytes losslessly instead (AppendJsonStringLossless).
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

// Appends s as a JSON string, quotes included, losslessly: valid UTF-8 as
// is, controls as \u00XX, and each byte B that is not part of a valid UTF-8
// sequence as the escape \uDCXX of the lone surrogate U+DC00 + B (B is
// 0x80..0xFF, so U+DC80..U+DCFF). Valid UTF-8 cannot hold a surrogate, so
// the escape is unambiguous: the original bytes come back by mapping each
// U+DC80..U+DCFF back to its byte (Python: os.fsencode(s), the
// "surrogateescape" error handler). The output is ASCII where s is not UTF-8,
// so it is always valid UTF-8 (docs/report-json.md, "Paths and names").
void AppendJsonStringLossless(std::string_view s, std::string* out);

// lcov tracefiles are line-based (`SF:PATH`, `FN:LINE,NAME`): a path with a
// newline or carriage return cannot be written (genhtml would read a broken
// record); LcovCanHoldPath is false for it.
bool LcovCanHoldPath(std::string_view path);
// A function name for `FN`/`FNDA`: commas (C++ templates) become ';'
// because genhtml stops a name at the first comma, and control characters
// (a newline would end the record) become '?'.
std::string LcovName(std::string_view name);

}  // namespace remcov::tool

#endif  // REMCOV_REPORT_TEXT_ESCAPE_H_
