// Kernels not written yet: each throws until its family file implements it.
// Delete an entry here when you implement it in its family file.
#include <stdexcept>

#include "kernels/cpu/cpu_backend.h"

namespace glassbox::kernels {


}  // namespace glassbox::kernels
