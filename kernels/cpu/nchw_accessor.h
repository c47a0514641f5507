#pragma once
// Element access into rank-4 strided views (NCHW activations, OIHW weights), shared
// by the loop-based convolution, pooling and resampling kernels.
#include <cstdint>

#include "kernels/backend.h"

namespace glassbox::kernels::cpu {

/// Element (a, b, c, d) of a rank-4 strided view of T.
template <class T>
struct Accessor4 {
  T* data;
  int64_t s0, s1, s2, s3;
  explicit Accessor4(const View& v)
      : data(v.ptr<T>()), s0(v.strides[0]), s1(v.strides[1]), s2(v.strides[2]), s3(v.strides[3]) {}
  T& operator()(int64_t a, int64_t b, int64_t c, int64_t d) const { return data[a * s0 + b * s1 + c * s2 + d * s3]; }
};

}  // namespace glassbox::kernels::cpu
