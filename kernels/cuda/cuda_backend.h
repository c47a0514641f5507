#pragma once
// The CUDA backend: cuBLAS for GEMMs (and the GEMMs inside convolutions), our own
// kernels for everything else. Every kernel runs on one stream per device, in
// order, so the engine's caching allocator can hand a freed block to the next op
// without a synchronisation. Method bodies live in one .cu file per op family,
// mirroring kernels/cpu.
#include "kernels/backend.h"

namespace glassbox::kernels::cuda {

class CudaBackend final : public Backend {
 public:
  explicit CudaBackend(int device) : device_(device) {}
  int device() const { return device_; }

  const char* name() const override;
  void synchronize() override;
  void* allocate(size_t nbytes) override;
  void deallocate(void* p, size_t nbytes) override;
  void copy_from_host(void* dst, const void* src, size_t nbytes) override;
  void copy_to_host(void* dst, const void* src, size_t nbytes) override;
  void copy(const View& src, const View& out) override;
  void fill(const View& out, double value) override;
  void unary(UnaryOp op, const View& x, const View& out, Scalars s) override;
  void binary(BinaryOp op, const View& a, const View& b, const View& out, Scalars s) override;
  void where(const View& cond, const View& a, const View& b, const View& out) override;
  void reduce(ReduceOp op, const View& x, const View& out) override;
  void arg_reduce(bool is_max, const View& x, int dim, const View& out) override;
  void cumsum(const View& x, int dim, const View& out) override;
  void softmax(const View& x, int dim, bool log, const View& out) override;
  void softmax_backward(const View& grad, const View& y, int dim, bool log, const View& out) override;
  void matmul(const View& a, const View& b, const View& c, bool trans_a, bool trans_b, double alpha, double beta) override;
  void conv2d_forward(const View& x, const View& w, const View* bias, const View& y, const Conv2dParams& p) override;
  void conv2d_backward_data(const View& gy, const View& w, const View& gx, const Conv2dParams& p) override;
  void conv2d_backward_weights(const View& x, const View& gy, const View& gw, const View* gbias, const Conv2dParams& p) override;
  void topk(const View& x, int64_t k, int dim, bool largest, const View& values, const View& indices) override;
  void cholesky(const View& a, const View& out) override;
  void triangular_solve(const View& a, const View& b, const View& x, bool lower, bool transpose_a, bool unit_diagonal) override;
  void index_select(const View& x, int dim, const View& index, const View& out) override;
  void index_add(const View& out, int dim, const View& index, const View& src) override;
  void gather(const View& x, int dim, const View& index, const View& out) override;
  void scatter_add(const View& out, int dim, const View& index, const View& src) override;
  void max_pool2d(const View& x, const View& out, const View& indices, const Conv2dParams& p, int64_t kernel_h, int64_t kernel_w) override;
  void max_pool2d_backward(const View& grad, const View& indices, const View& grad_x) override;
  void avg_pool2d(const View& x, const View& out, const Conv2dParams& p, int64_t kernel_h, int64_t kernel_w, bool count_include_pad) override;
  void avg_pool2d_backward(const View& grad, const View& grad_x, const Conv2dParams& p, int64_t kernel_h, int64_t kernel_w, bool count_include_pad) override;
  void upsample2d(const View& x, const View& out, bool bilinear, bool align_corners) override;
  void upsample2d_backward(const View& grad, const View& grad_x, bool bilinear, bool align_corners) override;
  void random_uniform(const View& out, uint64_t seed, uint64_t offset, double lo, double hi) override;
  void random_normal(const View& out, uint64_t seed, uint64_t offset, double mean, double std) override;
  void multinomial(const View& probs, bool replacement, uint64_t seed, uint64_t offset, const View& out) override;
  void sgd_update(const View& param, const View& grad, const View* momentum_buffer, const SgdHyper& h) override;
  void adam_update(const View& param, const View& grad, const View& exp_avg, const View& exp_avg_sq, const AdamHyper& h) override;
  void adadelta_update(const View& param, const View& grad, const View& square_avg, const View& acc_delta, const AdadeltaHyper& h) override;
  bool batch_norm_forward(const View& x, const View* weight, const View* bias, double eps, const View& y,
                          const View& mean, const View& var) override;
  bool batch_norm_backward(const View& g, const View& x, const View& mean, const View& rstd, const View* weight,
                           const View* gx, const View* gw, const View* gb) override;

 private:
  int device_;
};

}  // namespace glassbox::kernels::cuda
