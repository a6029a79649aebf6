// SPDX-License-Identifier: Apache-2.0
// UTF-8 checks and XML / JSON escaping for the exports (text_escape.h).
#include "report/text_escape.h"

#include <stdio.h>

namespace remcov::tool {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

bool XmlChar(uint32_t c) {
  // XML 1.0, production [2] Char.
  return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) ||
         (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF);
}

}  // namespace

size_t DecodeUtf8(std::string_view s, size_t i, uint32_t* code_point) {
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  const uint8_t b0 = byte(i);
  if (b0 < 0x80) {
    *code_point = b0;
    return 1;
  }
  size_t n;
  uint32_t c, min;
  if ((b0 & 0xE0) == 0xC0) {
    n = 2, c = b0 & 0x1Fu, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    n = 3, c = b0 & 0x0Fu, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    n = 4, c = b0 & 0x07u, min = 0x10000;
  } else {
    return 0;
  }
  if (s.size() - i < n) return 0;
  for (size_t k = 1; k < n; k++) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    c = (c << 6) | (byte(i + k) & 0x3Fu);
  }
  if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0;
  *code_point = c;
  return n;
}

bool IsUtf8(std::string_view s) {
  uint32_t c;
  for (size_t i = 0; i < s.size();) {
    const size_t n = DecodeUtf8(s, i, &c);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

namespace {

// The characters XML text and attribute values cannot hold as they are
// (tab, line feed and carriage return would be normalized in attributes).
constexpr struct {
  char c;
  const char* entity;
} kXmlEntities[] = {{'&', "&amp;"},  {'<', "&lt;"},  {'>', "&gt;"},
                    {'"', "&quot;"}, {'\t', "&#9;"}, {'\n', "&#10;"},
                    {'\r', "&#13;"}};

const char* XmlEntity(uint32_t c) {
  for (const auto& e : kXmlEntities) {
    if (static_cast<uint32_t>(static_cast<unsigned char>(e.c)) == c)
      return e.entity;
  }
  return nullptr;
}

}  // namespace

size_t AppendXml(std::string_view s, std::string* out) {
  size_t replaced = 0;
  uint32_t c;
  for (size_t i = 0; i < s.size();) {
    const size_t n = DecodeUtf8(s, i, &c);
    if (n == 0 || !XmlChar(c)) {
      out->append(kReplacement);
      replaced++;
      i += n == 0 ? 1 : n;
      continue;
    }
    if (const char* entity = XmlEntity(c)) {
      out->append(entity);
    } else {
      out->append(s.substr(i, n));
    }
    i += n;
  }
  return replaced;
}

namespace {

// AppendJsonString's body: a byte that is not UTF-8 is U+FFFD, or (escape)
// \uDCXX.
size_t AppendJson(std::string_view s, bool escape, std::string* out) {
  size_t replaced = 0;
  uint32_t c;
  out->push_back('"');
  for (size_t i = 0; i < s.size();) {
    const size_t n = DecodeUtf8(s, i, &c);
    if (n == 0) {
      if (escape) {
        char buf[8];
        snprintf(buf, sizeof buf, "\\udc%02x", static_cast<uint8_t>(s[i]));
        out->append(buf);
      } else {
        out->append(kReplacement);
      }
      replaced++;
      i++;
      continue;
    }
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(static_cast<char>(c));
    } else if (c < 0x20) {
      char buf[8];
      snprintf(buf, sizeof buf, "\\u%04x", c);
      out->append(buf);
    } else {
      out->append(s.substr(i, n));
    }
    i += n;
  }
  out->push_back('"');
  return replaced;
}

}  // namespace

size_t AppendJsonString(std::string_view s, std::string* out) {
  return AppendJson(s, false, out);
}

void AppendJsonStringLossless(std::string_view s, std::string* out) {
  AppendJson(s, true, out);
}

bool LcovCanHoldPath(std::string_view path) {
  return path.find_first_of("\n\r") == std::string_view::npos;
}

std::string LcovName(std::string_view name) {
  std::string out(name);
  for (char& ch : out) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c == ',')
      ch = ';';
    else if (c < 0x20 || c == 0x7f)
      ch = '?';
  }
  return out;
}

}  // namespace remcov::tool
