// Kernels not written yet: each throws until its family file implements it.
// Delete an entry here when you implement it in its family file.
#include <stdexcept>

#include "kernels/cpu/cpu_backend.h"

namespace glassbox::kernels {

void CpuBackend::sgd_update(const View& , const View& , const View* , const SgdHyper& ) { throw std::logic_error("cpu kernel sgd_update is not implemented"); }
void CpuBackend::adam_update(const View& , const View& , const View& , const View& , const AdamHyper& ) { throw std::logic_error("cpu kernel adam_update is not implemented"); }
void CpuBackend::adadelta_update(const View& , const View& , const View& , const View& , const AdadeltaHyper& ) { throw std::logic_error("cpu kernel adadelta_update is not implemented"); }

}  // namespace glassbox::kernels
