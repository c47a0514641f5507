#pragma once
// Errors the user can fix by changing the command, a flag, a config or a path,
// as opposed to bugs or failing hardware. The CLI reports them with exit code 2.
#include <stdexcept>

namespace glassbox {

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace glassbox
