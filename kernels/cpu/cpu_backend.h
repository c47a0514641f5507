#pragma once
// The CPU backend: oneDNN for convolutions, OpenBLAS for GEMM, OpenMP loops for the
// rest. Method bodies live in one file per op family (elementwise.cpp, reduce.cpp, ...).
#include "kernels/backend.h"

namespace glassbox::kernels {

class CpuBackend final : public Backend {
 public:
  /// Turns on flush_denormals (unless GLASSBOX_DENORMALS=keep): the first CPU op sets up the
  /// floating-point mode of every thread it will use.
  CpuBackend();
  const char* name() const override;
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
  bool batch_norm_act_forward(const View& x, const View* weight, const View* bias, double eps,
                              const NormActivation& act, const View& y, const View& mean, const View& var) override;
  bool batch_norm_act_backward(const View& g, const View& y, const View& x, const View& mean, const View& rstd,
                               const View* weight, const NormActivation& act, const View* gx, const View* gw,
                               const View* gb) override;
};

/// Sets the threads used by OpenMP loops, OpenBLAS and oneDNN.
void set_cpu_threads(int n);
int cpu_threads();

/// Subnormal floats (below 1.2e-38 in f32) cost x86 about a hundred cycles per operation that
/// meets one. Low-temperature softmaxes fill GEMM operands with them: a Transformer Programs
/// step at temperature 0.05 took 655 ms where it takes 222 ms at 3. With `on`, results that
/// would be subnormal are 0 and subnormal inputs read as 0 (MXCSR FTZ and DAZ, as TensorFlow
/// does on the CPU; PyTorch's torch.set_flush_denormal), on the calling thread and on every
/// OpenMP thread. On by default; GLASSBOX_DENORMALS=keep keeps IEEE subnormals.
void set_flush_denormals(bool on);

}  // namespace glassbox::kernels
