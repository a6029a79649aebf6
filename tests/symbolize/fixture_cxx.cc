// SPDX-License-Identifier: Apache-2.0
// C++ code for the symbolizer and site tests, compiled into symbolize_test
// with -O2 -g -fsanitize-coverage=trace-pc,trace-cmp: templates from the
// standard library (regex, map, unordered_map, sort, function) give a large
// binary with deep inlined frames, and direct calls to the static runtime's
// callbacks.
#include "fixture_cxx.h"

#include <algorithm>
#include <functional>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

namespace remcov::symbolize_fixture {

int Run(const std::string& text) {
  std::map<std::string, int> words;
  std::unordered_map<char, int> letters;
  std::istringstream in(text);
  std::string w;
  while (in >> w) {
    ++words[w];
    for (char c : w) ++letters[c];
  }
  std::vector<std::pair<int, std::string>> by_count;
  for (const auto& [word, n] : words) by_count.emplace_back(n, word);
  std::sort(by_count.begin(), by_count.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
  static const std::regex kNumber("[0-9]+");
  int numbers = 0;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), kNumber);
       it != std::sregex_iterator(); ++it) {
    ++numbers;
  }
  std::function<int(int)> weigh = [&](int n) {
    return n > 3 ? n * 2 : static_cast<int>(letters.size()) + n;
  };
  int total = numbers;
  for (const auto& [n, word] : by_count) total += weigh(n);
  return total;
}

}  // namespace remcov::symbolize_fixture
