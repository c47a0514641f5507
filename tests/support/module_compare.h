#pragma once
// Compares two modules' parameters and buffers exactly (bitwise for f32, f64
// values compared after conversion), for checkpoint and exact-resume tests.
#include "engine/nn/module.h"

namespace glassbox::testing {

inline bool same_state(const nn::Module& a, const nn::Module& b) {
  auto sa = a.state_dict(), sb = b.state_dict();
  if (sa.size() != sb.size()) return false;
  for (auto& [name, t] : sa) {
    auto it = sb.find(name);
    if (it == sb.end() || !(t.shape() == it->second.shape())) return false;
    if (t.to_vector<double>() != it->second.to_vector<double>()) return false;
  }
  return true;
}

}  // namespace glassbox::testing
