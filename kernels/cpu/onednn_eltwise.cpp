#include "kernels/cpu/onednn_eltwise.h"

#include <map>
#include <mutex>
#include <optional>
#include <tuple>

#include "kernels/cpu/onednn_engine.h"

namespace glassbox::kernels::cpu {

namespace {

using dnnl::algorithm;
using dnnl::memory;

// Views are processed in chunks of these sizes, largest first, by one primitive per
// (algorithm, chunk size): a primitive per tensor size would JIT-compile code for every
// new shape, and small chunks would pay the call overhead too often. The tail below
// the smallest chunk, and smaller views, stay on the scalar loops.
constexpr int64_t kChunks[] = {int64_t(1) << 18, int64_t(1) << 14, int64_t(1) << 10};
constexpr int64_t kMinElements = int64_t(1) << 14;

std::optional<algorithm> forward_algorithm(UnaryOp op) {
  switch (op) {
    case UnaryOp::sigmoid: return algorithm::eltwise_logistic_use_dst_for_bwd;
    case UnaryOp::tanh: return algorithm::eltwise_tanh_use_dst_for_bwd;
    case UnaryOp::exp: return algorithm::eltwise_exp;
    case UnaryOp::gelu_erf: return algorithm::eltwise_gelu_erf;
    case UnaryOp::gelu_tanh: return algorithm::eltwise_gelu_tanh;
    default: return std::nullopt;
  }
}

std::optional<algorithm> backward_algorithm(BinaryOp op) {
  switch (op) {
    case BinaryOp::sigmoid_backward: return algorithm::eltwise_logistic_use_dst_for_bwd;
    case BinaryOp::tanh_backward: return algorithm::eltwise_tanh_use_dst_for_bwd;
    default: return std::nullopt;
  }
}

bool dense_f32(const View& v) { return v.dtype == DType::f32 && v.is_contiguous(); }

memory::desc flat(int64_t n) { return {{n}, memory::data_type::f32, memory::format_tag::a}; }

dnnl::eltwise_forward::primitive_desc forward_pd(algorithm alg, int64_t n) {
  return {{dnnl::prop_kind::forward_training, alg, flat(n), 0.f, 0.f}, onednn_engine()};
}

/// Primitives created once per (pass, algorithm, size): creation costs far more than a run.
template <class Make>
dnnl::primitive cached(bool backward, algorithm alg, int64_t n, Make make) {
  static std::mutex mutex;
  static std::map<std::tuple<bool, int, int64_t>, dnnl::primitive> cache;
  std::lock_guard<std::mutex> lock(mutex);
  auto key = std::make_tuple(backward, int(alg), n);
  auto it = cache.find(key);
  if (it == cache.end()) it = cache.emplace(key, make()).first;
  return it->second;
}

memory chunk(const View& v, int64_t first, int64_t n) {
  return memory(flat(n), onednn_engine(), static_cast<float*>(v.data) + first);
}

/// Runs run_chunk(first, size) over the view's leading elements in the chunk sizes;
/// returns how many elements it covered.
template <class RunChunk>
int64_t over_chunks(int64_t n, RunChunk run_chunk) {
  int64_t first = 0;
  for (int64_t size : kChunks)
    for (; first + size <= n; first += size) run_chunk(first, size);
  onednn_stream().wait();
  return first;
}

/// The elements past the last whole chunk, as a view for the scalar loop.
View tail(const View& v, int64_t first) {
  View t = v;
  t.data = static_cast<float*>(v.data) + first;
  t.shape = Dims{v.numel() - first};
  t.strides = Dims{1};
  return t;
}

}  // namespace

int64_t onednn_unary(UnaryOp op, const View& x, const View& out) {
  const auto alg = forward_algorithm(op);
  const int64_t n = out.numel();
  if (!alg || n < kMinElements || !dense_f32(x) || !dense_f32(out)) return 0;
  return over_chunks(n, [&](int64_t first, int64_t size) {
    dnnl::primitive p = cached(false, *alg, size, [&] { return dnnl::eltwise_forward(forward_pd(*alg, size)); });
    p.execute(onednn_stream(), {{DNNL_ARG_SRC, chunk(x, first, size)}, {DNNL_ARG_DST, chunk(out, first, size)}});
  });
}

int64_t onednn_binary(BinaryOp op, const View& g, const View& y, const View& out) {
  const auto alg = backward_algorithm(op);
  const int64_t n = out.numel();
  if (!alg || n < kMinElements || !dense_f32(g) || !dense_f32(y) || !dense_f32(out) || g.numel() != n ||
      y.numel() != n)
    return 0;
  return over_chunks(n, [&](int64_t first, int64_t size) {
    dnnl::primitive p = cached(true, *alg, size, [&] {
      dnnl::eltwise_backward::desc d(*alg, flat(size), flat(size), 0.f, 0.f);
      return dnnl::eltwise_backward(dnnl::eltwise_backward::primitive_desc(d, onednn_engine(), forward_pd(*alg, size)));
    });
    p.execute(onednn_stream(), {{DNNL_ARG_DST, chunk(y, first, size)},
                                {DNNL_ARG_DIFF_DST, chunk(g, first, size)},
                                {DNNL_ARG_DIFF_SRC, chunk(out, first, size)}});
  });
}

View onednn_tail(const View& v, int64_t done) { return tail(v, done); }

dnnl::engine& onednn_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::stream& onednn_stream() {
  thread_local dnnl::stream stream(onednn_engine());
  return stream;
}

}  // namespace glassbox::kernels::cpu
