// Convolution speed at the ProtoNet encoder's shapes (Snell et al. 2017 use 4 blocks;
// our MNIST-sized variant: batch 250, 3x3 stride 2 SAME, 1->32 channels 28x28->14x14,
// then 32->32 14x14->7x7), and the mirrored transposed convolutions of a decoder.
// Conv passes call the CPU backend's kernels directly (oneDNN, f32); transposed
// convolutions go through the op, as a model would call them.
//
//   ./build/bench/conv_bench --benchmark_min_time=0.5
#include <benchmark/benchmark.h>

#include <random>

#include "engine/autograd/grad_mode.h"
#include "engine/ops/conv.h"
#include "engine/tensor.h"
#include "kernels/registry.h"

using namespace glassbox;

namespace {

constexpr int64_t kBatch = 250;

struct Layer {
  int64_t in_ch, out_ch, in_size;  // square inputs, 3x3 kernels, stride 2
  int64_t out_size() const { return (in_size + 1) / 2; }
};
// Arg 0: the first block, arg 1: an inner block.
constexpr Layer kLayers[] = {{1, 32, 28}, {32, 32, 14}};

Tensor random_f32(const Shape& shape, uint64_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.f, 1.f);
  std::vector<float> v(size_t(shape.product()));
  for (float& x : v) x = dist(rng);
  return Tensor::from_vector(v, shape);
}

/// Tensors and SAME parameters of one conv layer.
struct ConvCase {
  Tensor x, w, b, y, gy, gx, gw, gb;
  kernels::Conv2dParams p;
  explicit ConvCase(const Layer& l) {
    const int64_t o = l.out_size();
    x = random_f32({kBatch, l.in_ch, l.in_size, l.in_size}, 1);
    w = random_f32({l.out_ch, l.in_ch, 3, 3}, 2);
    b = random_f32({l.out_ch}, 3);
    gy = random_f32({kBatch, l.out_ch, o, o}, 4);
    y = Tensor::empty(gy.shape());
    gx = Tensor::empty(x.shape());
    gw = Tensor::empty(w.shape());
    gb = Tensor::empty(b.shape());
    ops::Padding2d pad = ops::Padding2d::same(l.in_size, l.in_size, 3, 3, 2, 2);
    p = {2, 2, pad.top, pad.bottom, pad.left, pad.right, 1, 1, 1};
  }
};

void conv2d_forward(benchmark::State& state) {
  ConvCase c(kLayers[state.range(0)]);
  auto& cpu = kernels::backend_for(Device::cpu());
  kernels::View bv = c.b.view();
  for (auto _ : state) cpu.conv2d_forward(c.x.view(), c.w.view(), &bv, c.y.view(), c.p);
}

void conv2d_backward_data(benchmark::State& state) {
  ConvCase c(kLayers[state.range(0)]);
  auto& cpu = kernels::backend_for(Device::cpu());
  for (auto _ : state) cpu.conv2d_backward_data(c.gy.view(), c.w.view(), c.gx.view(), c.p);
}

void conv2d_backward_weights(benchmark::State& state) {
  ConvCase c(kLayers[state.range(0)]);
  auto& cpu = kernels::backend_for(Device::cpu());
  kernels::View gbv = c.gb.view();
  for (auto _ : state) cpu.conv2d_backward_weights(c.x.view(), c.gy.view(), c.gw.view(), &gbv, c.p);
}

/// The decoder mirror of a layer: [250, out_ch, o, o] -> [250, in_ch, in_size, in_size]
/// with padding 1 and output_padding 1 (the symmetric equivalent of SAME here).
struct TransposeCase {
  Tensor x, w, b, gy;
  ops::ConvTranspose2dOptions opt;
  explicit TransposeCase(const Layer& l) {
    x = random_f32({kBatch, l.out_ch, l.out_size(), l.out_size()}, 5);
    w = random_f32({l.out_ch, l.in_ch, 3, 3}, 6);
    b = random_f32({l.in_ch}, 7);
    gy = random_f32({kBatch, l.in_ch, l.in_size, l.in_size}, 8);
    opt.stride_h = opt.stride_w = 2;
    opt.padding_h = opt.padding_w = 1;
    opt.output_padding_h = opt.output_padding_w = 1;
  }
};

void conv_transpose2d_forward(benchmark::State& state) {
  TransposeCase c(kLayers[state.range(0)]);
  NoGradGuard no_grad;
  for (auto _ : state) benchmark::DoNotOptimize(ops::conv_transpose2d(c.x, c.w, c.b, c.opt));
}

/// The backward of a transposed convolution: input gradient (a conv forward) plus
/// weight and bias gradients.
void conv_transpose2d_backward(benchmark::State& state) {
  TransposeCase c(kLayers[state.range(0)]);
  c.x.set_requires_grad();
  c.w.set_requires_grad();
  c.b.set_requires_grad();
  for (auto _ : state) {
    state.PauseTiming();
    for (Tensor* t : {&c.x, &c.w, &c.b}) t->set_grad(Tensor());  // time the gradients, not their accumulation
    Tensor y = ops::conv_transpose2d(c.x, c.w, c.b, c.opt);
    state.ResumeTiming();
    y.backward(c.gy);
  }
}

}  // namespace

BENCHMARK(conv2d_forward)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(conv2d_backward_data)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(conv2d_backward_weights)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(conv_transpose2d_forward)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(conv_transpose2d_backward)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
