// Kernels not written yet: each throws until its family file implements it.
// Delete an entry here when you implement it in its family file.
#include <stdexcept>

#include "kernels/cpu/cpu_backend.h"

namespace glassbox::kernels {

void CpuBackend::cumsum(const View& , int , const View& ) { throw std::logic_error("cpu kernel cumsum is not implemented"); }
void CpuBackend::softmax(const View& , int , bool , const View& ) { throw std::logic_error("cpu kernel softmax is not implemented"); }
void CpuBackend::softmax_backward(const View& , const View& , int , bool , const View& ) { throw std::logic_error("cpu kernel softmax_backward is not implemented"); }
void CpuBackend::matmul(const View& , const View& , const View& , bool , bool , double , double ) { throw std::logic_error("cpu kernel matmul is not implemented"); }
void CpuBackend::conv2d_forward(const View& , const View& , const View* , const View& , const Conv2dParams& ) { throw std::logic_error("cpu kernel conv2d_forward is not implemented"); }
void CpuBackend::conv2d_backward_data(const View& , const View& , const View& , const Conv2dParams& ) { throw std::logic_error("cpu kernel conv2d_backward_data is not implemented"); }
void CpuBackend::conv2d_backward_weights(const View& , const View& , const View& , const View* , const Conv2dParams& ) { throw std::logic_error("cpu kernel conv2d_backward_weights is not implemented"); }
void CpuBackend::topk(const View& , int64_t , int , bool , const View& , const View& ) { throw std::logic_error("cpu kernel topk is not implemented"); }
void CpuBackend::cholesky(const View& , const View& ) { throw std::logic_error("cpu kernel cholesky is not implemented"); }
void CpuBackend::triangular_solve(const View& , const View& , const View& , bool , bool , bool ) { throw std::logic_error("cpu kernel triangular_solve is not implemented"); }
void CpuBackend::index_select(const View& , int , const View& , const View& ) { throw std::logic_error("cpu kernel index_select is not implemented"); }
void CpuBackend::index_add(const View& , int , const View& , const View& ) { throw std::logic_error("cpu kernel index_add is not implemented"); }
void CpuBackend::gather(const View& , int , const View& , const View& ) { throw std::logic_error("cpu kernel gather is not implemented"); }
void CpuBackend::scatter_add(const View& , int , const View& , const View& ) { throw std::logic_error("cpu kernel scatter_add is not implemented"); }
void CpuBackend::max_pool2d(const View& , const View& , const View& , const Conv2dParams& , int64_t , int64_t ) { throw std::logic_error("cpu kernel max_pool2d is not implemented"); }
void CpuBackend::max_pool2d_backward(const View& , const View& , const View& ) { throw std::logic_error("cpu kernel max_pool2d_backward is not implemented"); }
void CpuBackend::avg_pool2d(const View& , const View& , const Conv2dParams& , int64_t , int64_t , bool ) { throw std::logic_error("cpu kernel avg_pool2d is not implemented"); }
void CpuBackend::avg_pool2d_backward(const View& , const View& , const Conv2dParams& , int64_t , int64_t , bool ) { throw std::logic_error("cpu kernel avg_pool2d_backward is not implemented"); }
void CpuBackend::upsample2d(const View& , const View& , bool , bool ) { throw std::logic_error("cpu kernel upsample2d is not implemented"); }
void CpuBackend::upsample2d_backward(const View& , const View& , bool , bool ) { throw std::logic_error("cpu kernel upsample2d_backward is not implemented"); }
void CpuBackend::random_uniform(const View& , uint64_t , uint64_t , double , double ) { throw std::logic_error("cpu kernel random_uniform is not implemented"); }
void CpuBackend::random_normal(const View& , uint64_t , uint64_t , double , double ) { throw std::logic_error("cpu kernel random_normal is not implemented"); }
void CpuBackend::multinomial(const View& , bool , uint64_t , uint64_t , const View& ) { throw std::logic_error("cpu kernel multinomial is not implemented"); }

}  // namespace glassbox::kernels
