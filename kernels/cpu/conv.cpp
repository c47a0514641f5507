// 2-d convolution on the CPU: oneDNN primitives for f32, the reference loops for f64
// (oneDNN has no f64 convolution, and gradient checks need f64).
//
// Creating a oneDNN primitive (descriptor, implementation search, JIT) costs far more
// than running a small one, so each (pass, shape, parameters) gets its primitive once
// and keeps it in a cache. Our tensors are plain nchw/oihw, but oneDNN's fast direct
// kernels want blocked layouts (nChw16c, ...): each primitive is created with
// format_tag::any, and its operands are reordered into (and its result out of) the
// layouts it chose, through scratch buffers reused from call to call. On the ProtoNet
// step this replaced im2col+GEMM ("gemm:jit") with the direct JIT kernels.
#include <array>
#include <initializer_list>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#include "kernels/cpu/cpu_backend.h"
#include "kernels/cpu/onednn_engine.h"
#include "kernels/cpu/reference/conv_reference.h"

namespace glassbox::kernels {

namespace {

using dnnl::memory;
using Tag = memory::format_tag;

enum class Pass : int64_t { forward, backward_data, backward_weights };

dnnl::engine& cpu_engine() { return cpu::onednn_engine(); }
dnnl::stream& cpu_stream() { return cpu::onednn_stream(); }

/// Everything that determines a primitive: the pass, whether a bias takes part, the
/// activation/weight/output sizes and the convolution parameters.
using ConvKey = std::array<int64_t, 20>;

struct ConvShape {
  const View& x;  // [N, C, H, W] (the input, or its gradient)
  const View& w;  // [O, C/groups, kh, kw] (the weights, or their gradient)
  const View& y;  // [N, O, OH, OW] (the output, or its gradient)
  const Conv2dParams& p;
  bool bias;

  ConvKey key(Pass pass) const {
    return {int64_t(pass), int64_t(bias), x.shape[0],  x.shape[1],   x.shape[2],   x.shape[3], w.shape[0],
            w.shape[2],    w.shape[3],    y.shape[2],  y.shape[3],   p.stride_h,   p.stride_w, p.pad_top,
            p.pad_bottom,  p.pad_left,    p.pad_right, p.dilation_h, p.dilation_w, p.groups};
  }
  memory::desc x_md() const {
    return {{x.shape[0], x.shape[1], x.shape[2], x.shape[3]}, memory::data_type::f32, Tag::nchw};
  }
  memory::desc y_md() const {
    return {{y.shape[0], y.shape[1], y.shape[2], y.shape[3]}, memory::data_type::f32, Tag::nchw};
  }
  /// OIHW weights; grouped weights are the same bytes read as [G, O/G, C/G, kh, kw].
  memory::desc w_md() const {
    if (p.groups == 1) return {{w.shape[0], w.shape[1], w.shape[2], w.shape[3]}, memory::data_type::f32, Tag::oihw};
    return {{p.groups, w.shape[0] / p.groups, w.shape[1], w.shape[2], w.shape[3]}, memory::data_type::f32, Tag::goihw};
  }
  memory::desc bias_md() const { return {{w.shape[0]}, memory::data_type::f32, Tag::x}; }
  memory::dims strides() const { return {p.stride_h, p.stride_w}; }
  /// oneDNN counts dilation as the gap between taps: PyTorch's dilation minus one.
  memory::dims dilates() const { return {p.dilation_h - 1, p.dilation_w - 1}; }
  memory::dims pad_l() const { return {p.pad_top, p.pad_left}; }
  memory::dims pad_r() const { return {p.pad_bottom, p.pad_right}; }

  dnnl::convolution_forward::primitive_desc forward_pd() const {
    const auto algo = dnnl::algorithm::convolution_direct;
    const auto kind = dnnl::prop_kind::forward_training;
    const memory::desc x = any(x_md()), w = any(w_md()), y = any(y_md());
    auto desc = bias ? dnnl::convolution_forward::desc(kind, algo, x, w, bias_md(), y, strides(), dilates(), pad_l(),
                                                       pad_r())
                     : dnnl::convolution_forward::desc(kind, algo, x, w, y, strides(), dilates(), pad_l(), pad_r());
    return {desc, cpu_engine()};
  }

  /// The same sizes with the layout left to oneDNN.
  static memory::desc any(const memory::desc& plain) {
    return {plain.dims(), memory::data_type::f32, Tag::any};
  }
};

/// One operand of a cached convolution: the layout the primitive chose and, when it
/// differs from the plain one, the reorder between the two (in the operand's direction).
struct Operand {
  memory::desc plain, chosen;
  bool input;  // read by the primitive (else written)
  std::optional<dnnl::reorder> reorder;
  Operand(const memory::desc& plain_md, const memory::desc& chosen_md, bool is_input)
      : plain(plain_md), chosen(chosen_md), input(is_input) {
    if (plain == chosen) return;
    reorder = input ? dnnl::reorder(memory(plain, cpu_engine()), memory(chosen, cpu_engine()))
                    : dnnl::reorder(memory(chosen, cpu_engine()), memory(plain, cpu_engine()));
  }
};

/// A cached convolution: the primitive and its x, w, y operands.
struct ConvPrimitive {
  dnnl::primitive primitive;
  std::vector<Operand> operands;  // x, w, y
};

ConvPrimitive make_primitive(const ConvShape& shape, Pass pass) {
  const auto algo = dnnl::algorithm::convolution_direct;
  const auto fwd = shape.forward_pd();
  const memory::desc x = ConvShape::any(shape.x_md()), w = ConvShape::any(shape.w_md()), y = ConvShape::any(shape.y_md());
  switch (pass) {
    case Pass::forward:
      return {dnnl::convolution_forward(fwd),
              {{shape.x_md(), fwd.src_desc(), true}, {shape.w_md(), fwd.weights_desc(), true},
               {shape.y_md(), fwd.dst_desc(), false}}};
    case Pass::backward_data: {
      // With one input channel (a decoder's last transposed convolution) the blocked
      // direct kernel is 3x slower than im2col + GEMM on the plain layouts (ProtoNet's
      // 32 -> 1 layer: 6.8 vs 2.1 ms), so that case keeps the plain layouts.
      const bool plain = shape.x.shape[1] == 1;
      dnnl::convolution_backward_data::desc desc(algo, plain ? shape.x_md() : x, plain ? shape.w_md() : w,
                                                 plain ? shape.y_md() : y, shape.strides(), shape.dilates(),
                                                 shape.pad_l(), shape.pad_r());
      dnnl::convolution_backward_data::primitive_desc pd(desc, cpu_engine(), fwd);
      return {dnnl::convolution_backward_data(pd),
              {{shape.x_md(), pd.diff_src_desc(), false}, {shape.w_md(), pd.weights_desc(), true},
               {shape.y_md(), pd.diff_dst_desc(), true}}};
    }
    case Pass::backward_weights: {
      auto desc = shape.bias ? dnnl::convolution_backward_weights::desc(algo, x, w, shape.bias_md(), y, shape.strides(),
                                                                        shape.dilates(), shape.pad_l(), shape.pad_r())
                             : dnnl::convolution_backward_weights::desc(algo, x, w, y, shape.strides(), shape.dilates(),
                                                                        shape.pad_l(), shape.pad_r());
      dnnl::convolution_backward_weights::primitive_desc pd(desc, cpu_engine(), fwd);
      return {dnnl::convolution_backward_weights(pd),
              {{shape.x_md(), pd.src_desc(), true}, {shape.w_md(), pd.diff_weights_desc(), false},
               {shape.y_md(), pd.diff_dst_desc(), true}}};
    }
  }
  throw std::logic_error("conv2d: unknown pass");
}

/// The cached primitive for this pass and shape, created on first use.
const ConvPrimitive& cached_primitive(const ConvShape& shape, Pass pass) {
  static std::mutex mutex;
  static std::map<ConvKey, ConvPrimitive> cache;
  const ConvKey key = shape.key(pass);
  std::lock_guard<std::mutex> lock(mutex);
  auto it = cache.find(key);
  if (it == cache.end()) {
    try {
      it = cache.emplace(key, make_primitive(shape, pass)).first;
    } catch (const dnnl::error& e) {
      throw std::invalid_argument(std::string("conv2d: oneDNN rejected the shapes x ") + shape.x.shape.str() + ", w " +
                                  shape.w.shape.str() + ", y " + shape.y.shape.str() + ": " + e.what());
    }
  }
  return it->second;
}

memory wrap(const memory::desc& md, const View& v) { return memory(md, cpu_engine(), v.data); }

/// The oneDNN path reads plain dense layouts; the ops layer passes contiguous tensors.
void check_dense(const char* kernel, std::initializer_list<const View*> views) {
  for (const View* v : views)
    if (v && !v->is_contiguous())
      throw std::logic_error(std::string(kernel) + ": the f32 path needs contiguous tensors, got strides " +
                             v->strides.str() + " for shape " + v->shape.str());
}

/// Runs a cached convolution on plain views x, w, y (under the given oneDNN argument
/// ids), reordering each operand that the primitive wants in another layout through a
/// per-thread scratch buffer; `extra` holds plain arguments (the bias).
void run(const ConvPrimitive& conv, const std::array<const View*, 3>& views, const std::array<int, 3>& arg_ids,
         std::unordered_map<int, memory> extra = {}) {
  thread_local std::array<std::vector<float>, 3> scratch;
  std::unordered_map<int, memory> args = std::move(extra);
  std::array<std::optional<memory>, 3> plain, chosen;
  for (size_t i = 0; i < 3; ++i) {
    const Operand& op = conv.operands[i];
    plain[i] = wrap(op.plain, *views[i]);
    if (!op.reorder) {
      args.emplace(arg_ids[i], *plain[i]);
      continue;
    }
    std::vector<float>& buffer = scratch[i];
    const size_t floats = (op.chosen.get_size() + sizeof(float) - 1) / sizeof(float);
    if (buffer.size() < floats) buffer.resize(floats);
    chosen[i] = memory(op.chosen, cpu_engine(), buffer.data());
    if (op.input) op.reorder->execute(cpu_stream(), *plain[i], *chosen[i]);
    args.emplace(arg_ids[i], *chosen[i]);
  }
  conv.primitive.execute(cpu_stream(), args);
  for (size_t i = 0; i < 3; ++i) {
    const Operand& op = conv.operands[i];
    if (op.reorder && !op.input) op.reorder->execute(cpu_stream(), *chosen[i], *plain[i]);
  }
  cpu_stream().wait();
}

}  // namespace

void CpuBackend::conv2d_forward(const View& x, const View& w, const View* bias, const View& y, const Conv2dParams& p) {
  if (x.dtype != DType::f32) return reference::conv2d_forward(x, w, bias, y, p);
  check_dense("conv2d_forward", {&x, &w, bias, &y});
  const ConvShape shape{x, w, y, p, bias != nullptr};
  std::unordered_map<int, memory> extra;
  if (bias) extra.emplace(DNNL_ARG_BIAS, wrap(shape.bias_md(), *bias));
  run(cached_primitive(shape, Pass::forward), {&x, &w, &y}, {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST},
      std::move(extra));
}

void CpuBackend::conv2d_backward_data(const View& gy, const View& w, const View& gx, const Conv2dParams& p) {
  if (gy.dtype != DType::f32) return reference::conv2d_backward_data(gy, w, gx, p);
  check_dense("conv2d_backward_data", {&gy, &w, &gx});
  const ConvShape shape{gx, w, gy, p, false};
  run(cached_primitive(shape, Pass::backward_data), {&gx, &w, &gy},
      {DNNL_ARG_DIFF_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DIFF_DST});
}

void CpuBackend::conv2d_backward_weights(const View& x, const View& gy, const View& gw, const View* gbias,
                                         const Conv2dParams& p) {
  if (x.dtype != DType::f32) return reference::conv2d_backward_weights(x, gy, gw, gbias, p);
  check_dense("conv2d_backward_weights", {&x, &gy, &gw, gbias});
  const ConvShape shape{x, gw, gy, p, gbias != nullptr};
  std::unordered_map<int, memory> extra;
  if (gbias) extra.emplace(DNNL_ARG_DIFF_BIAS, wrap(shape.bias_md(), *gbias));
  run(cached_primitive(shape, Pass::backward_weights), {&x, &gw, &gy},
      {DNNL_ARG_SRC, DNNL_ARG_DIFF_WEIGHTS, DNNL_ARG_DIFF_DST}, std::move(extra));
}

}  // namespace glassbox::kernels
