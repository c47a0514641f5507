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
void CpuBackend::max_pool2d(const View& , const View& , const View& , const Conv2dParams& , int64_t , int64_t ) { throw std::logic_error("cpu kernel max_pool2d is not implemented"); }
void CpuBackend::max_pool2d_backward(const View& , const View& , const View& ) { throw std::logic_error("cpu kernel max_pool2d_backward is not implemented"); }
void CpuBackend::avg_pool2d(const View& , const View& , const Conv2dParams& , int64_t , int64_t , bool ) { throw std::logic_error("cpu kernel avg_pool2d is not implemented"); }
void CpuBackend::avg_pool2d_backward(const View& , const View& , const Conv2dParams& , int64_t , int64_t , bool ) { throw std::logic_error("cpu kernel avg_pool2d_backward is not implemented"); }
void CpuBackend::upsample2d(const View& , const View& , bool , bool ) { throw std::logic_error("cpu kernel upsample2d is not implemented"); }
void CpuBackend::upsample2d_backward(const View& , const View& , bool , bool ) { throw std::logic_error("cpu kernel upsample2d_backward is not implemented"); }
void CpuBackend::sgd_update(const View& , const View& , const View* , const SgdHyper& ) { throw std::logic_error("cpu kernel sgd_update is not implemented"); }
void CpuBackend::adam_update(const View& , const View& , const View& , const View& , const AdamHyper& ) { throw std::logic_error("cpu kernel adam_update is not implemented"); }
void CpuBackend::adadelta_update(const View& , const View& , const View& , const View& , const AdadeltaHyper& ) { throw std::logic_error("cpu kernel adadelta_update is not implemented"); }

}  // namespace glassbox::kernels
