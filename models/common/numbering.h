#pragma once
// Numbers in export file names and printed tables (prototype_03.png, concept 07): at least
// two digits, so that names sort in numeric order.
#include <cstdint>
#include <string>

namespace glassbox::models {

/// i with a leading zero below 10: "03", "12", "123".
inline std::string two_digits(int64_t i) {
  std::string s = std::to_string(i);
  return s.size() < 2 ? "0" + s : s;
}

}  // namespace glassbox::models
