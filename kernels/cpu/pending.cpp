// Kernels not written yet: each throws until its family file implements it.
// Delete an entry here when you implement it in its family file.
#include <stdexcept>

#include "kernels/cpu/cpu_backend.h"

namespace glassbox::kernels {

void CpuBackend::index_select(const View& , int , const View& , const View& ) { throw std::logic_error("cpu kernel index_select is not implemented"); }
void CpuBackend::index_add(const View& , int , const View& , const View& ) { throw std::logic_error("cpu kernel index_add is not implemented"); }
void CpuBackend::gather(const View& , int , const View& , const View& ) { throw std::logic_error("cpu kernel gather is not implemented"); }
void CpuBackend::scatter_add(const View& , int , const View& , const View& ) { throw std::logic_error("cpu kernel scatter_add is not implemented"); }
void CpuBackend::random_uniform(const View& , uint64_t , uint64_t , double , double ) { throw std::logic_error("cpu kernel random_uniform is not implemented"); }
void CpuBackend::random_normal(const View& , uint64_t , uint64_t , double , double ) { throw std::logic_error("cpu kernel random_normal is not implemented"); }
void CpuBackend::multinomial(const View& , bool , uint64_t , uint64_t , const View& ) { throw std::logic_error("cpu kernel multinomial is not implemented"); }
void CpuBackend::sgd_update(const View& , const View& , const View* , const SgdHyper& ) { throw std::logic_error("cpu kernel sgd_update is not implemented"); }
void CpuBackend::adam_update(const View& , const View& , const View& , const View& , const AdamHyper& ) { throw std::logic_error("cpu kernel adam_update is not implemented"); }
void CpuBackend::adadelta_update(const View& , const View& , const View& , const View& , const AdadeltaHyper& ) { throw std::logic_error("cpu kernel adadelta_update is not implemented"); }

}  // namespace glassbox::kernels
