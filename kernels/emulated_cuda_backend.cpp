// GLASSBOX_EMULATE_CUDA: "cuda" devices served by the CPU kernels on tracked host
// memory (see emulated_cuda_backend.h for why).
#include "kernels/emulated_cuda_backend.h"

#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/cpu/cpu_backend.h"

namespace glassbox::kernels {

namespace {

class EmulatedCudaBackend final : public Backend {
 public:
  explicit EmulatedCudaBackend(int index) : index_(index) {}
  const char* name() const override { return "cuda (emulated on the CPU)"; }

  void* allocate(size_t nbytes) override {
    void* p = cpu_.allocate(nbytes);
    std::lock_guard<std::mutex> lock(mu_);
    blocks_[static_cast<const char*>(p)] = nbytes == 0 ? 1 : nbytes;
    return p;
  }
  void deallocate(void* p, size_t nbytes) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      blocks_.erase(static_cast<const char*>(p));
    }
    cpu_.deallocate(p, nbytes);
  }
  void copy_from_host(void* dst, const void* src, size_t nbytes) override {
    owns_bytes(dst, nbytes, "copy_from_host (destination)");
    not_owned(src, "copy_from_host (source)");
    std::memcpy(dst, src, nbytes);
  }
  void copy_to_host(void* dst, const void* src, size_t nbytes) override {
    owns_bytes(src, nbytes, "copy_to_host (source)");
    not_owned(dst, "copy_to_host (destination)");
    std::memcpy(dst, src, nbytes);
  }

  void copy(const View& src, const View& out) override {
    owns("copy", src, out);
    cpu_.copy(src, out);
  }
  void fill(const View& out, double value) override {
    owns("fill", out);
    cpu_.fill(out, value);
  }
  void unary(UnaryOp op, const View& x, const View& out, Scalars s) override {
    owns("unary", x, out);
    cpu_.unary(op, x, out, s);
  }
  void binary(BinaryOp op, const View& a, const View& b, const View& out, Scalars s) override {
    owns("binary", a, b, out);
    cpu_.binary(op, a, b, out, s);
  }
  void where(const View& cond, const View& a, const View& b, const View& out) override {
    owns("where", cond, a, b, out);
    cpu_.where(cond, a, b, out);
  }
  void reduce(ReduceOp op, const View& x, const View& out) override {
    owns("reduce", x, out);
    cpu_.reduce(op, x, out);
  }
  void arg_reduce(bool is_max, const View& x, int dim, const View& out) override {
    owns("arg_reduce", x, out);
    cpu_.arg_reduce(is_max, x, dim, out);
  }
  void cumsum(const View& x, int dim, const View& out) override {
    owns("cumsum", x, out);
    cpu_.cumsum(x, dim, out);
  }
  void softmax(const View& x, int dim, bool log, const View& out) override {
    owns("softmax", x, out);
    cpu_.softmax(x, dim, log, out);
  }
  void softmax_backward(const View& grad, const View& y, int dim, bool log, const View& out) override {
    owns("softmax_backward", grad, y, out);
    cpu_.softmax_backward(grad, y, dim, log, out);
  }
  void matmul(const View& a, const View& b, const View& c, bool trans_a, bool trans_b, double alpha, double beta) override {
    owns("matmul", a, b, c);
    cpu_.matmul(a, b, c, trans_a, trans_b, alpha, beta);
  }
  void conv2d_forward(const View& x, const View& w, const View* bias, const View& y, const Conv2dParams& p) override {
    owns("conv2d_forward", x, w);
    if (bias) owns("conv2d_forward", *bias);
    owns("conv2d_forward", y);
    cpu_.conv2d_forward(x, w, bias, y, p);
  }
  void conv2d_backward_data(const View& gy, const View& w, const View& gx, const Conv2dParams& p) override {
    owns("conv2d_backward_data", gy, w, gx);
    cpu_.conv2d_backward_data(gy, w, gx, p);
  }
  void conv2d_backward_weights(const View& x, const View& gy, const View& gw, const View* gbias, const Conv2dParams& p) override {
    owns("conv2d_backward_weights", x, gy, gw);
    if (gbias) owns("conv2d_backward_weights", *gbias);
    cpu_.conv2d_backward_weights(x, gy, gw, gbias, p);
  }
  void topk(const View& x, int64_t k, int dim, bool largest, const View& values, const View& indices) override {
    owns("topk", x, values, indices);
    cpu_.topk(x, k, dim, largest, values, indices);
  }
  void cholesky(const View& a, const View& out) override {
    owns("cholesky", a, out);
    cpu_.cholesky(a, out);
  }
  void triangular_solve(const View& a, const View& b, const View& x, bool lower, bool transpose_a, bool unit_diagonal) override {
    owns("triangular_solve", a, b, x);
    cpu_.triangular_solve(a, b, x, lower, transpose_a, unit_diagonal);
  }
  void index_select(const View& x, int dim, const View& index, const View& out) override {
    owns("index_select", x, index, out);
    cpu_.index_select(x, dim, index, out);
  }
  void index_add(const View& out, int dim, const View& index, const View& src) override {
    owns("index_add", out, index, src);
    cpu_.index_add(out, dim, index, src);
  }
  void gather(const View& x, int dim, const View& index, const View& out) override {
    owns("gather", x, index, out);
    cpu_.gather(x, dim, index, out);
  }
  void scatter_add(const View& out, int dim, const View& index, const View& src) override {
    owns("scatter_add", out, index, src);
    cpu_.scatter_add(out, dim, index, src);
  }
  void max_pool2d(const View& x, const View& out, const View& indices, const Conv2dParams& p, int64_t kernel_h, int64_t kernel_w) override {
    owns("max_pool2d", x, out, indices);
    cpu_.max_pool2d(x, out, indices, p, kernel_h, kernel_w);
  }
  void max_pool2d_backward(const View& grad, const View& indices, const View& grad_x) override {
    owns("max_pool2d_backward", grad, indices, grad_x);
    cpu_.max_pool2d_backward(grad, indices, grad_x);
  }
  void avg_pool2d(const View& x, const View& out, const Conv2dParams& p, int64_t kernel_h, int64_t kernel_w, bool count_include_pad) override {
    owns("avg_pool2d", x, out);
    cpu_.avg_pool2d(x, out, p, kernel_h, kernel_w, count_include_pad);
  }
  void avg_pool2d_backward(const View& grad, const View& grad_x, const Conv2dParams& p, int64_t kernel_h, int64_t kernel_w, bool count_include_pad) override {
    owns("avg_pool2d_backward", grad, grad_x);
    cpu_.avg_pool2d_backward(grad, grad_x, p, kernel_h, kernel_w, count_include_pad);
  }
  void upsample2d(const View& x, const View& out, bool bilinear, bool align_corners) override {
    owns("upsample2d", x, out);
    cpu_.upsample2d(x, out, bilinear, align_corners);
  }
  void upsample2d_backward(const View& grad, const View& grad_x, bool bilinear, bool align_corners) override {
    owns("upsample2d_backward", grad, grad_x);
    cpu_.upsample2d_backward(grad, grad_x, bilinear, align_corners);
  }
  void random_uniform(const View& out, uint64_t seed, uint64_t offset, double lo, double hi) override {
    owns("random_uniform", out);
    cpu_.random_uniform(out, seed, offset, lo, hi);
  }
  void random_normal(const View& out, uint64_t seed, uint64_t offset, double mean, double std) override {
    owns("random_normal", out);
    cpu_.random_normal(out, seed, offset, mean, std);
  }
  void multinomial(const View& probs, bool replacement, uint64_t seed, uint64_t offset, const View& out) override {
    owns("multinomial", probs, out);
    cpu_.multinomial(probs, replacement, seed, offset, out);
  }
  void sgd_update(const View& param, const View& grad, const View* momentum_buffer, const SgdHyper& h) override {
    owns("sgd_update", param, grad);
    if (momentum_buffer) owns("sgd_update", *momentum_buffer);
    cpu_.sgd_update(param, grad, momentum_buffer, h);
  }
  void adam_update(const View& param, const View& grad, const View& exp_avg, const View& exp_avg_sq, const AdamHyper& h) override {
    owns("adam_update", param, grad, exp_avg, exp_avg_sq);
    cpu_.adam_update(param, grad, exp_avg, exp_avg_sq, h);
  }
  void adadelta_update(const View& param, const View& grad, const View& square_avg, const View& acc_delta, const AdadeltaHyper& h) override {
    owns("adadelta_update", param, grad, square_avg, acc_delta);
    cpu_.adadelta_update(param, grad, square_avg, acc_delta, h);
  }
  // The GPU has fused batch norm kernels too (kernels/cuda/batch_norm.cu): the emulated
  // device takes the same path through the op.
  bool batch_norm_forward(const View& x, const View* weight, const View* bias, double eps, const View& y,
                          const View& mean, const View& var) override {
    for (const View* v : {&x, weight, bias, &y, &mean, &var})
      if (v) owns("batch_norm_forward", *v);
    return cpu_.batch_norm_forward(x, weight, bias, eps, y, mean, var);
  }
  bool batch_norm_backward(const View& g, const View& x, const View& mean, const View& rstd, const View* weight,
                           const View* gx, const View* gw, const View* gb) override {
    for (const View* v : {&g, &x, &mean, &rstd, weight, gx, gw, gb})
      if (v) owns("batch_norm_backward", *v);
    return cpu_.batch_norm_backward(g, x, mean, rstd, weight, gx, gw, gb);
  }

 private:
  /// Each view must lie inside one block this device allocated.
  template <class... Views>
  void owns(const char* op, const Views&... views) const {
    (owns_view(views, op), ...);
  }
  void owns_view(const View& v, const char* op) const {
    if (v.numel() == 0) return;
    int64_t lo = 0, hi = 0;
    for (int d = 0; d < v.shape.size(); ++d) {
      const int64_t reach = (v.shape[d] - 1) * v.strides[d];
      (reach < 0 ? lo : hi) += reach;
    }
    const int64_t size = static_cast<int64_t>(dtype_size(v.dtype));
    const char* first = static_cast<const char*>(v.data) + lo * size;
    owns_bytes(first, static_cast<size_t>((hi - lo + 1) * size), op);
  }
  void owns_bytes(const void* p, size_t nbytes, const char* op) const {
    const char* c = static_cast<const char*>(p);
    std::lock_guard<std::mutex> lock(mu_);
    auto it = blocks_.upper_bound(c);
    if (it != blocks_.begin()) {
      --it;
      if (c + nbytes <= it->first + it->second) return;
    }
    throw std::logic_error(std::string("cuda:") + std::to_string(index_) + " " + op +
                           ": an operand is not in this device's memory (a CPU tensor reached a CUDA op, "
                           "or host code read device memory)");
  }
  void not_owned(const void* p, const char* op) const {
    const char* c = static_cast<const char*>(p);
    std::lock_guard<std::mutex> lock(mu_);
    auto it = blocks_.upper_bound(c);
    if (it != blocks_.begin() && c < std::prev(it)->first + std::prev(it)->second)
      throw std::logic_error(std::string("cuda:") + std::to_string(index_) + " " + op + ": the host buffer is device memory");
  }

  int index_;
  CpuBackend cpu_;
  mutable std::mutex mu_;
  std::map<const char*, size_t> blocks_;  // base -> size of each live allocation
};

}  // namespace

int emulated_cuda_device_count() {
  const char* v = std::getenv("GLASSBOX_EMULATE_CUDA");
  if (!v || !*v) return 0;
  char* end = nullptr;
  const long n = std::strtol(v, &end, 10);
  return (*end == '\0' && n > 0 && n <= 16) ? static_cast<int>(n) : 0;
}

Backend& emulated_cuda_backend(int index) {
  static std::mutex mu;
  static auto* backends = new std::vector<std::unique_ptr<EmulatedCudaBackend>>();
  std::lock_guard<std::mutex> lock(mu);
  if (static_cast<int>(backends->size()) <= index) backends->resize(index + 1);
  auto& slot = (*backends)[index];
  if (!slot) slot = std::make_unique<EmulatedCudaBackend>(index);
  return *slot;
}

}  // namespace glassbox::kernels
