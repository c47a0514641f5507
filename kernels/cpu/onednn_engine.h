#pragma once
// The one oneDNN CPU engine and stream every oneDNN-backed kernel uses.
#include <oneapi/dnnl/dnnl.hpp>

namespace glassbox::kernels::cpu {

dnnl::engine& onednn_engine();
/// A stream per thread (oneDNN streams are not safe to share between threads).
dnnl::stream& onednn_stream();

}  // namespace glassbox::kernels::cpu
