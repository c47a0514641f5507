#pragma once
// Plain loops for 2-d convolution: the oracle the oneDNN path is tested against,
// and the f64 path (oneDNN has no f64 convolution) that gradient checks run on.
// Views may be strided; shapes are NCHW activations and [O, C/groups, kh, kw] weights.
#include "kernels/backend.h"

namespace glassbox::kernels::reference {

/// y[n,o,i,j] = bias[o] + sum_{c,a,b} x[n, g*Cg+c, i*sh - top + a*dh, j*sw - left + b*dw] * w[o,c,a,b].
void conv2d_forward(const View& x, const View& w, const View* bias, const View& y, const Conv2dParams& p);
/// gx = d(sum y*gy)/dx: every x element collects gy * w from the windows that read it.
void conv2d_backward_data(const View& gy, const View& w, const View& gx, const Conv2dParams& p);
/// gw = d(sum y*gy)/dw and, when gbias is given, gbias[o] = sum of gy over n, i, j.
void conv2d_backward_weights(const View& x, const View& gy, const View& gw, const View* gbias, const Conv2dParams& p);

}  // namespace glassbox::kernels::reference
