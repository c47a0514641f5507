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
    owns(src, "copy");
    owns(out, "copy");
    cpu_.copy(src, out);
  }
  void fill(const View& out, double value) override {
    owns(out, "fill");
    cpu_.fill(out, value);
  }
  void unary(UnaryOp op, const View& x, const View& out, Scalars s) override {
    owns(x, "unary");
    owns(out, "unary");
    cpu_.unary(op, x, out, s);
  }
  void binary(BinaryOp op, const View& a, const View& b, const View& out, Scalars s) override {
    owns(a, "binary");
    owns(b, "binary");
    owns(out, "binary");
    cpu_.binary(op, a, b, out, s);
  }
  void where(const View& cond, const View& a, const View& b, const View& out) override {
    owns(cond, "where");
    owns(a, "where");
    owns(b, "where");
    owns(out, "where");
    cpu_.where(cond, a, b, out);
  }
  void reduce(ReduceOp op, const View& x, const View& out) override {
    owns(x, "reduce");
    owns(out, "reduce");
    cpu_.reduce(op, x, out);
  }
  void arg_reduce(bool is_max, const View& x, int dim, const View& out) override {
    owns(x, "arg_reduce");
    owns(out, "arg_reduce");
    cpu_.arg_reduce(is_max, x, dim, out);
  }
  void cumsum(const View& x, int dim, const View& out) override {
    owns(x, "cumsum");
    owns(out, "cumsum");
    cpu_.cumsum(x, dim, out);
  }
  void softmax(const View& x, int dim, bool log, const View& out) override {
    owns(x, "softmax");
    owns(out, "softmax");
    cpu_.softmax(x, dim, log, out);
  }
  void softmax_backward(const View& grad, const View& y, int dim, bool log, const View& out) override {
    owns(grad, "softmax_backward");
    owns(y, "softmax_backward");
    owns(out, "softmax_backward");
    cpu_.softmax_backward(grad, y, dim, log, out);
  }
  void matmul(const View& a, const View& b, const View& c, bool trans_a, bool trans_b, double alpha, double beta) override {
    owns(a, "matmul");
    owns(b, "matmul");
    owns(c, "matmul");
    cpu_.matmul(a, b, c, trans_a, trans_b, alpha, beta);
  }
  void conv2d_forward(const View& x, const View& w, const View* bias, const View& y, const Conv2dParams& p) override {
    owns(x, "conv2d_forward");
    owns(w, "conv2d_forward");
    if (bias) owns(*bias, "conv2d_forward");
    owns(y, "conv2d_forward");
    cpu_.conv2d_forward(x, w, bias, y, p);
  }
  void conv2d_backward_data(const View& gy, const View& w, const View& gx, const Conv2dParams& p) override {
    owns(gy, "conv2d_backward_data");
    owns(w, "conv2d_backward_data");
    owns(gx, "conv2d_backward_data");
    cpu_.conv2d_backward_data(gy, w, gx, p);
  }
  void conv2d_backward_weights(const View& x, const View& gy, const View& gw, const View* gbias, const Conv2dParams& p) override {
    owns(x, "conv2d_backward_weights");
    owns(gy, "conv2d_backward_weights");
    owns(gw, "conv2d_backward_weights");
    if (gbias) owns(*gbias, "conv2d_backward_weights");
    cpu_.conv2d_backward_weights(x, gy, gw, gbias, p);
  }
  void topk(const View& x, int64_t k, int dim, bool largest, const View& values, const View& indices) override {
    owns(x, "topk");
    owns(values, "topk");
    owns(indices, "topk");
    cpu_.topk(x, k, dim, largest, values, indices);
  }
  void cholesky(const View& a, const View& out) override {
    owns(a, "cholesky");
    owns(out, "cholesky");
    cpu_.cholesky(a, out);
  }
  void triangular_solve(const View& a, const View& b, const View& x, bool lower, bool transpose_a, bool unit_diagonal) override {
    owns(a, "triangular_solve");
    owns(b, "triangular_solve");
    owns(x, "triangular_solve");
    cpu_.triangular_solve(a, b, x, lower, transpose_a, unit_diagonal);
  }
  void index_select(const View& x, int dim, const View& index, const View& out) override {
    owns(x, "index_select");
    owns(index, "index_select");
    owns(out, "index_select");
    cpu_.index_select(x, dim, index, out);
  }
  void index_add(const View& out, int dim, const View& index, const View& src) override {
    owns(out, "index_add");
    owns(index, "index_add");
    owns(src, "index_add");
    cpu_.index_add(out, dim, index, src);
  }
  void gather(const View& x, int dim, const View& index, const View& out) override {
    owns(x, "gather");
    owns(index, "gather");
    owns(out, "gather");
    cpu_.gather(x, dim, index, out);
  }
  void scatter_add(const View& out, int dim, const View& index, const View& src) override {
    owns(out, "scatter_add");
    owns(index, "scatter_add");
    owns(src, "scatter_add");
    cpu_.scatter_add(out, dim, index, src);
  }
  void max_pool2d(const View& x, const View& out, const View& indices, const Conv2dParams& p, int64_t kernel_h, int64_t kernel_w) override {
    owns(x, "max_pool2d");
    owns(out, "max_pool2d");
    owns(indices, "max_pool2d");
    cpu_.max_pool2d(x, out, indices, p, kernel_h, kernel_w);
  }
  void max_pool2d_backward(const View& grad, const View& indices, const View& grad_x) override {
    owns(grad, "max_pool2d_backward");
    owns(indices, "max_pool2d_backward");
    owns(grad_x, "max_pool2d_backward");
    cpu_.max_pool2d_backward(grad, indices, grad_x);
  }
  void avg_pool2d(const View& x, const View& out, const Conv2dParams& p, int64_t kernel_h, int64_t kernel_w, bool count_include_pad) override {
    owns(x, "avg_pool2d");
    owns(out, "avg_pool2d");
    cpu_.avg_pool2d(x, out, p, kernel_h, kernel_w, count_include_pad);
  }
  void avg_pool2d_backward(const View& grad, const View& grad_x, const Conv2dParams& p, int64_t kernel_h, int64_t kernel_w, bool count_include_pad) override {
    owns(grad, "avg_pool2d_backward");
    owns(grad_x, "avg_pool2d_backward");
    cpu_.avg_pool2d_backward(grad, grad_x, p, kernel_h, kernel_w, count_include_pad);
  }
  void upsample2d(const View& x, const View& out, bool bilinear, bool align_corners) override {
    owns(x, "upsample2d");
    owns(out, "upsample2d");
    cpu_.upsample2d(x, out, bilinear, align_corners);
  }
  void upsample2d_backward(const View& grad, const View& grad_x, bool bilinear, bool align_corners) override {
    owns(grad, "upsample2d_backward");
    owns(grad_x, "upsample2d_backward");
    cpu_.upsample2d_backward(grad, grad_x, bilinear, align_corners);
  }
  void random_uniform(const View& out, uint64_t seed, uint64_t offset, double lo, double hi) override {
    owns(out, "random_uniform");
    cpu_.random_uniform(out, seed, offset, lo, hi);
  }
  void random_normal(const View& out, uint64_t seed, uint64_t offset, double mean, double std) override {
    owns(out, "random_normal");
    cpu_.random_normal(out, seed, offset, mean, std);
  }
  void multinomial(const View& probs, bool replacement, uint64_t seed, uint64_t offset, const View& out) override {
    owns(probs, "multinomial");
    owns(out, "multinomial");
    cpu_.multinomial(probs, replacement, seed, offset, out);
  }
  void sgd_update(const View& param, const View& grad, const View* momentum_buffer, const SgdHyper& h) override {
    owns(param, "sgd_update");
    owns(grad, "sgd_update");
    if (momentum_buffer) owns(*momentum_buffer, "sgd_update");
    cpu_.sgd_update(param, grad, momentum_buffer, h);
  }
  void adam_update(const View& param, const View& grad, const View& exp_avg, const View& exp_avg_sq, const AdamHyper& h) override {
    owns(param, "adam_update");
    owns(grad, "adam_update");
    owns(exp_avg, "adam_update");
    owns(exp_avg_sq, "adam_update");
    cpu_.adam_update(param, grad, exp_avg, exp_avg_sq, h);
  }
  void adadelta_update(const View& param, const View& grad, const View& square_avg, const View& acc_delta, const AdadeltaHyper& h) override {
    owns(param, "adadelta_update");
    owns(grad, "adadelta_update");
    owns(square_avg, "adadelta_update");
    owns(acc_delta, "adadelta_update");
    cpu_.adadelta_update(param, grad, square_avg, acc_delta, h);
  }
  // The GPU has fused batch norm kernels too (kernels/cuda/batch_norm.cu): the emulated
  // device takes the same path through the op.
  bool batch_norm_forward(const View& x, const View* weight, const View* bias, double eps, const View& y,
                          const View& mean, const View& var) override {
    for (const View* v : {&x, weight, bias, &y, &mean, &var})
      if (v) owns(*v, "batch_norm_forward");
    return cpu_.batch_norm_forward(x, weight, bias, eps, y, mean, var);
  }
  bool batch_norm_backward(const View& g, const View& x, const View& mean, const View& rstd, const View* weight,
                           const View* gx, const View* gw, const View* gb) override {
    for (const View* v : {&g, &x, &mean, &rstd, weight, gx, gw, gb})
      if (v) owns(*v, "batch_norm_backward");
    return cpu_.batch_norm_backward(g, x, mean, rstd, weight, gx, gw, gb);
  }

 private:
  /// The view must lie inside one block this device allocated.
  void owns(const View& v, const char* op) const {
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
