// 2-d convolution on the CPU: oneDNN primitives for f32, the reference loops for f64
// (oneDNN has no f64 convolution, and gradient checks need f64).
//
// Creating a oneDNN primitive (descriptor, implementation search, JIT) costs far more
// than running a small one, so each (pass, shape, parameters) gets its primitive once
// and keeps it in a cache. Memory descriptors use the plain nchw/oihw layouts our
// tensors already have, so no reorders are needed; letting oneDNN choose blocked
// layouts (format_tag::any plus reorders) is the next speed step.
#include <array>
#include <initializer_list>
#include <map>
#include <mutex>
#include <oneapi/dnnl/dnnl.hpp>

#include "kernels/cpu/onednn_engine.h"
#include <stdexcept>
#include <string>
#include <unordered_map>

#include "kernels/cpu/cpu_backend.h"
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
    auto desc = bias ? dnnl::convolution_forward::desc(kind, algo, x_md(), w_md(), bias_md(), y_md(), strides(),
                                                       dilates(), pad_l(), pad_r())
                     : dnnl::convolution_forward::desc(kind, algo, x_md(), w_md(), y_md(), strides(), dilates(),
                                                       pad_l(), pad_r());
    return {desc, cpu_engine()};
  }

  dnnl::primitive make(Pass pass) const {
    const auto algo = dnnl::algorithm::convolution_direct;
    switch (pass) {
      case Pass::forward:
        return dnnl::convolution_forward(forward_pd());
      case Pass::backward_data: {
        dnnl::convolution_backward_data::desc desc(algo, x_md(), w_md(), y_md(), strides(), dilates(), pad_l(),
                                                   pad_r());
        return dnnl::convolution_backward_data({desc, cpu_engine(), forward_pd()});
      }
      case Pass::backward_weights: {
        auto desc = bias ? dnnl::convolution_backward_weights::desc(algo, x_md(), w_md(), bias_md(), y_md(), strides(),
                                                                    dilates(), pad_l(), pad_r())
                         : dnnl::convolution_backward_weights::desc(algo, x_md(), w_md(), y_md(), strides(), dilates(),
                                                                    pad_l(), pad_r());
        return dnnl::convolution_backward_weights({desc, cpu_engine(), forward_pd()});
      }
    }
    throw std::logic_error("conv2d: unknown pass");
  }
};

/// The cached primitive for this pass and shape, created on first use.
dnnl::primitive cached_primitive(const ConvShape& shape, Pass pass) {
  static std::mutex mutex;
  static std::map<ConvKey, dnnl::primitive> cache;
  const ConvKey key = shape.key(pass);
  std::lock_guard<std::mutex> lock(mutex);
  auto it = cache.find(key);
  if (it == cache.end()) {
    try {
      it = cache.emplace(key, shape.make(pass)).first;
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

}  // namespace

void CpuBackend::conv2d_forward(const View& x, const View& w, const View* bias, const View& y, const Conv2dParams& p) {
  if (x.dtype != DType::f32) return reference::conv2d_forward(x, w, bias, y, p);
  check_dense("conv2d_forward", {&x, &w, bias, &y});
  const ConvShape shape{x, w, y, p, bias != nullptr};
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, wrap(shape.x_md(), x)},
                                       {DNNL_ARG_WEIGHTS, wrap(shape.w_md(), w)},
                                       {DNNL_ARG_DST, wrap(shape.y_md(), y)}};
  if (bias) args.emplace(DNNL_ARG_BIAS, wrap(shape.bias_md(), *bias));
  cached_primitive(shape, Pass::forward).execute(cpu_stream(), args);
  cpu_stream().wait();
}

void CpuBackend::conv2d_backward_data(const View& gy, const View& w, const View& gx, const Conv2dParams& p) {
  if (gy.dtype != DType::f32) return reference::conv2d_backward_data(gy, w, gx, p);
  check_dense("conv2d_backward_data", {&gy, &w, &gx});
  const ConvShape shape{gx, w, gy, p, false};
  cached_primitive(shape, Pass::backward_data)
      .execute(cpu_stream(), {{DNNL_ARG_DIFF_DST, wrap(shape.y_md(), gy)},
                              {DNNL_ARG_WEIGHTS, wrap(shape.w_md(), w)},
                              {DNNL_ARG_DIFF_SRC, wrap(shape.x_md(), gx)}});
  cpu_stream().wait();
}

void CpuBackend::conv2d_backward_weights(const View& x, const View& gy, const View& gw, const View* gbias,
                                         const Conv2dParams& p) {
  if (x.dtype != DType::f32) return reference::conv2d_backward_weights(x, gy, gw, gbias, p);
  check_dense("conv2d_backward_weights", {&x, &gy, &gw, gbias});
  const ConvShape shape{x, gw, gy, p, gbias != nullptr};
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, wrap(shape.x_md(), x)},
                                       {DNNL_ARG_DIFF_DST, wrap(shape.y_md(), gy)},
                                       {DNNL_ARG_DIFF_WEIGHTS, wrap(shape.w_md(), gw)}};
  if (gbias) args.emplace(DNNL_ARG_DIFF_BIAS, wrap(shape.bias_md(), *gbias));
  cached_primitive(shape, Pass::backward_weights).execute(cpu_stream(), args);
  cpu_stream().wait();
}

}  // namespace glassbox::kernels
