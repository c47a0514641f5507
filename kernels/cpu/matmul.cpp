// Batched GEMM on strided views: C = alpha * op(A) @ op(B) + beta * C.
//
// Each matrix of the batch is handed to a library without copying whenever its last
// two dims have a unit stride in either position (the other stride becomes the
// leading dimension and a column-major matrix becomes a transposed row-major one);
// otherwise the operand is first copied to a contiguous buffer.
//
// Library choice, from bench/matmul_bench.cpp (f32, A and B row-major, min of 5 runs on
// this project's shared 2-core AMD EPYC machine, 25 Nov 2026). One thread, GFLOP/s from
// CPU time (wall time was 2-3x longer only because other jobs shared the cores):
//   M x K x N        OpenBLAS  oneDNN
//   64^3               112      104
//   250x40x15          102       92
//   256^3              100      112
//   250x784x32          90      112
//   512^3               91      102
//   1024^3              93      100
//   2048^3             101      101
// So with one thread oneDNN takes GEMMs from about 2^20 multiply-adds on and OpenBLAS
// the small ones (less per-call overhead). With two threads on that loaded machine
// oneDNN (OpenMP) took about 20 ms per call even at 64^3 (a worker waiting at a barrier
// for a descheduled sibling): many times OpenBLAS's wall time up to 512^3 and 15% slower
// at 1024^3 and 2048^3, so with several threads everything goes to OpenBLAS. f64 always
// uses OpenBLAS (oneDNN has no f64 matmul on CPU).
#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <array>
#include <map>
#include <mutex>
#include <oneapi/dnnl/dnnl.hpp>
#include <optional>
#include <stdexcept>
#include <vector>

#include "kernels/cpu/batch_loop.h"
#include "kernels/cpu/cpu_backend.h"
#include "kernels/cpu/onednn_engine.h"
#include "kernels/cpu/strided_loop.h"

namespace glassbox::kernels {

namespace {

/// How one stored matrix is passed to a row-major BLAS call.
struct BlasLayout {
  bool transposed;  // the memory holds the matrix's transpose in row-major order
  int64_t ld;       // leading dimension of that row-major memory
};

/// The row-major description of a stored [rows, cols] matrix with strides (sr, sc), if
/// one exists (one unit stride, the other at least the extent it must skip).
std::optional<BlasLayout> blas_layout(int64_t rows, int64_t cols, int64_t sr, int64_t sc) {
  const int64_t r1 = std::max<int64_t>(rows, 1), c1 = std::max<int64_t>(cols, 1);
  if ((sc == 1 || cols == 1) && (rows == 1 || sr >= c1)) return BlasLayout{false, rows == 1 ? c1 : sr};
  if ((sr == 1 || rows == 1) && (cols == 1 || sc >= r1)) return BlasLayout{true, cols == 1 ? r1 : sc};
  return std::nullopt;
}

/// One 2-d GEMM in row-major BLAS terms: C[M,N] = alpha * op(A)[M,K] op(B)[K,N] + beta * C.
struct Gemm {
  int64_t m = 0, n = 0, k = 0;
  bool trans_a = false, trans_b = false;
  int64_t lda = 0, ldb = 0, ldc = 0;
};

/// Operand strides of op(X) as a [rows, cols] matrix, for oneDNN's memory descriptors.
dnnl::memory::dims op_strides(bool trans, int64_t ld) {
  return trans ? dnnl::memory::dims{1, ld} : dnnl::memory::dims{ld, 1};
}

/// From this many multiply-adds per GEMM on, single-threaded f32 goes to oneDNN (see above).
constexpr double kOnednnMinMacs = 1024.0 * 1024.0;

bool prefer_onednn(const Gemm& g) {
  return omp_get_max_threads() == 1 && double(g.m) * double(g.n) * double(g.k) >= kOnednnMinMacs;
}

/// oneDNN matmul primitives, created once per (shape, layout, alpha, beta): creating a
/// primitive costs far more than running a small one.
class OnednnGemmCache {
 public:
  static OnednnGemmCache& instance() {
    static auto* cache = new OnednnGemmCache();
    return *cache;
  }

  void run(const Gemm& g, float alpha, float beta, const float* a, const float* b, float* c) {
    using dnnl::memory;
    Entry* e = nullptr;
    {
      std::lock_guard<std::mutex> lock(mu_);
      std::pair<Key, std::pair<float, float>> key{
          {g.m, g.n, g.k, int64_t(g.trans_a), int64_t(g.trans_b), g.lda, g.ldb, g.ldc}, {alpha, beta}};
      auto it = entries_.find(key);
      if (it == entries_.end()) it = entries_.emplace(key, make(g, alpha, beta)).first;
      e = &it->second;
    }
    memory ma(e->a, engine_, const_cast<float*>(a));
    memory mb(e->b, engine_, const_cast<float*>(b));
    memory mc(e->c, engine_, c);
    // One stream per calling thread: creating one per call costs about a microsecond.
    thread_local dnnl::stream stream(engine_);
    e->prim.execute(stream, {{DNNL_ARG_SRC, ma}, {DNNL_ARG_WEIGHTS, mb}, {DNNL_ARG_DST, mc}});
    stream.wait();
  }

 private:
  using Key = std::array<int64_t, 8>;
  struct Entry {
    dnnl::memory::desc a, b, c;
    dnnl::matmul prim;
  };

  OnednnGemmCache() : engine_(dnnl::engine::kind::cpu, 0) {}

  Entry make(const Gemm& g, float alpha, float beta) {
    using dnnl::memory;
    Entry e;
    e.a = memory::desc({g.m, g.k}, memory::data_type::f32, op_strides(g.trans_a, g.lda));
    e.b = memory::desc({g.k, g.n}, memory::data_type::f32, op_strides(g.trans_b, g.ldb));
    e.c = memory::desc({g.m, g.n}, memory::data_type::f32, memory::dims{g.ldc, 1});
    dnnl::primitive_attr attr;
    if (alpha != 1.0f) attr.set_output_scales(0, {alpha});
    if (beta != 0.0f) {
      dnnl::post_ops po;
      po.append_sum(beta);
      attr.set_post_ops(po);
    }
    dnnl::matmul::desc desc(e.a, e.b, e.c);
    e.prim = dnnl::matmul(dnnl::matmul::primitive_desc(desc, attr, engine_));
    return e;
  }

  dnnl::engine engine_;
  std::mutex mu_;
  std::map<std::pair<Key, std::pair<float, float>>, Entry> entries_;
};

/// A whole batch of small f32 GEMMs as one oneDNN matmul (batch dims in its memory
/// descriptors; operands broadcast over the batch excluded): thousands of 8x8 products (Transformer
/// Programs' attention) cost one call instead of one BLAS call each. Single-threaded only,
/// as the 2-d oneDNN path (see the note at the top).
class OnednnBatchedGemmCache {
 public:
  static OnednnBatchedGemmCache& instance() {
    static auto* cache = new OnednnBatchedGemmCache();
    return *cache;
  }

  /// False when oneDNN cannot take these views (then the caller loops over the batch).
  bool run(const View& a, const View& b, const View& c, const Gemm& g, float alpha, float beta) {
    using dnnl::memory;
    const int nd = c.shape.size();
    // oneDNN 2.6 runs broadcast batch dims on its reference kernel (100x slower than a
    // loop of BLAS calls), so those stay on the loop.
    for (int i = 0; i < nd - 2; ++i)
      if (c.shape[i] != 1 && (a.strides[i] == 0 || b.strides[i] == 0)) return false;
    auto desc = [&](const View& v, int64_t rows, int64_t cols, const memory::dims& matrix_strides) {
      memory::dims dims, strides;
      for (int i = 0; i < nd - 2; ++i) {
        dims.push_back(v.shape[i]);
        strides.push_back(v.strides[i]);
      }
      dims.push_back(rows);
      dims.push_back(cols);
      strides.insert(strides.end(), matrix_strides.begin(), matrix_strides.end());
      return std::make_pair(dims, strides);
    };
    auto [ad, as] = desc(a, g.m, g.k, op_strides(g.trans_a, g.lda));
    auto [bd, bs] = desc(b, g.k, g.n, op_strides(g.trans_b, g.ldb));
    auto [cd, cs] = desc(c, g.m, g.n, memory::dims{g.ldc, 1});
    std::vector<int64_t> key;
    for (const auto* v : {&ad, &as, &bd, &bs, &cd, &cs}) {
      key.push_back(int64_t(v->size()));
      key.insert(key.end(), v->begin(), v->end());
    }
    const std::pair<std::vector<int64_t>, std::pair<float, float>> full_key{key, {alpha, beta}};
    Entry* e = nullptr;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = entries_.find(full_key);
      if (it == entries_.end()) {
        Entry made;
        try {
          made.a = memory::desc(ad, memory::data_type::f32, as);
          made.b = memory::desc(bd, memory::data_type::f32, bs);
          made.c = memory::desc(cd, memory::data_type::f32, cs);
          dnnl::primitive_attr attr;
          if (alpha != 1.0f) attr.set_output_scales(0, {alpha});
          if (beta != 0.0f) {
            dnnl::post_ops po;
            po.append_sum(beta);
            attr.set_post_ops(po);
          }
          made.prim = dnnl::matmul(dnnl::matmul::primitive_desc(dnnl::matmul::desc(made.a, made.b, made.c), attr,
                                                                cpu::onednn_engine()));
          made.ok = true;
        } catch (const dnnl::error&) {
          made.ok = false;  // remembered, so the loop path is taken without retrying
        }
        it = entries_.emplace(full_key, std::move(made)).first;
      }
      e = &it->second;
    }
    if (!e->ok) return false;
    memory ma(e->a, cpu::onednn_engine(), a.data), mb(e->b, cpu::onednn_engine(), b.data),
        mc(e->c, cpu::onednn_engine(), c.data);
    e->prim.execute(cpu::onednn_stream(), {{DNNL_ARG_SRC, ma}, {DNNL_ARG_WEIGHTS, mb}, {DNNL_ARG_DST, mc}});
    cpu::onednn_stream().wait();
    return true;
  }

 private:
  struct Entry {
    dnnl::memory::desc a, b, c;
    dnnl::matmul prim;
    bool ok = false;
  };
  std::mutex mu_;
  std::map<std::pair<std::vector<int64_t>, std::pair<float, float>>, Entry> entries_;
};

/// Whether a batch of GEMMs goes to one batched oneDNN call: several small f32 products
/// on one thread.
bool prefer_batched_onednn(const Gemm& g, int64_t batches) {
  return batches > 1 && omp_get_max_threads() == 1 && double(g.m) * double(g.n) * double(g.k) < kOnednnMinMacs;
}

void blas_gemm(const Gemm& g, double alpha, double beta, const float* a, const float* b, float* c) {
  if (prefer_onednn(g)) {
    OnednnGemmCache::instance().run(g, float(alpha), float(beta), a, b, c);
    return;
  }
  cblas_sgemm(CblasRowMajor, g.trans_a ? CblasTrans : CblasNoTrans, g.trans_b ? CblasTrans : CblasNoTrans,
              blasint(g.m), blasint(g.n), blasint(g.k), float(alpha), a, blasint(g.lda), b, blasint(g.ldb),
              float(beta), c, blasint(g.ldc));
}

void blas_gemm(const Gemm& g, double alpha, double beta, const double* a, const double* b, double* c) {
  cblas_dgemm(CblasRowMajor, g.trans_a ? CblasTrans : CblasNoTrans, g.trans_b ? CblasTrans : CblasNoTrans,
              blasint(g.m), blasint(g.n), blasint(g.k), alpha, a, blasint(g.lda), b, blasint(g.ldb), beta, c,
              blasint(g.ldc));
}

/// A contiguous copy of `v` when its matrices have no BLAS layout; `v` itself otherwise.
template <class T>
View blas_ready(CpuBackend& cpu, const View& v, std::vector<T>& buffer) {
  const int nd = v.shape.size();
  if (blas_layout(v.shape[nd - 2], v.shape[nd - 1], v.strides[nd - 2], v.strides[nd - 1])) return v;
  buffer.resize(size_t(v.numel()));
  View c{buffer.data(), v.dtype, v.shape, contiguous_strides(v.shape)};
  cpu.copy(v, c);
  return c;
}

template <class T>
void matmul_typed(CpuBackend& cpu, const View& a_in, const View& b_in, const View& c_in, bool trans_a, bool trans_b,
                  double alpha, double beta) {
  const int nd = c_in.shape.size();
  const int64_t m = c_in.shape[nd - 2], n = c_in.shape[nd - 1];
  const int64_t k = trans_a ? a_in.shape[nd - 2] : a_in.shape[nd - 1];
  if (m == 0 || n == 0) return;
  if (k == 0) {
    // An empty sum: C = beta * C (BLAS convention: C is not read when beta is 0).
    if (beta == 0)
      cpu.fill(c_in, 0.0);
    else
      cpu.unary(UnaryOp::mul_scalar, c_in, c_in, {beta, 0});
    return;
  }

  std::vector<T> a_buf, b_buf, c_buf;
  View a = blas_ready(cpu, a_in, a_buf);
  View b = blas_ready(cpu, b_in, b_buf);
  View c = c_in;
  auto c_layout = blas_layout(m, n, c.strides[nd - 2], c.strides[nd - 1]);
  const bool c_copied = !c_layout;
  if (c_copied) {
    c_buf.resize(size_t(c_in.numel()));
    c = View{c_buf.data(), c_in.dtype, c_in.shape, contiguous_strides(c_in.shape)};
    if (beta != 0) cpu.copy(c_in, c);
    c_layout = BlasLayout{false, std::max<int64_t>(n, 1)};
  }
  auto a_layout = *blas_layout(a.shape[nd - 2], a.shape[nd - 1], a.strides[nd - 2], a.strides[nd - 1]);
  auto b_layout = *blas_layout(b.shape[nd - 2], b.shape[nd - 1], b.strides[nd - 2], b.strides[nd - 1]);

  Gemm g{m, n, k, trans_a != a_layout.transposed, trans_b != b_layout.transposed,
         a_layout.ld, b_layout.ld, c_layout->ld};
  bool swap = c_layout->transposed;
  if (swap) {
    // C is column-major: compute C^T = op(B)^T op(A)^T into its row-major transpose.
    g = Gemm{n, m, k, !g.trans_b, !g.trans_a, g.ldb, g.lda, c_layout->ld};
  }

  if constexpr (std::is_same_v<T, float>) {
    int64_t batches = 1;
    for (int i = 0; i < nd - 2; ++i) batches *= c.shape[i];
    if (!swap && prefer_batched_onednn(g, batches) &&
        OnednnBatchedGemmCache::instance().run(a, b, c, g, float(alpha), float(beta))) {
      if (c_copied) cpu.copy(c, c_in);
      return;
    }
  }
  cpu::for_each_batch<3>(c.shape, nd - 2, {&a.strides, &b.strides, &c.strides},
                         [&](int64_t, const std::array<int64_t, 3>& off) {
                           const T* pa = a.ptr<T>() + off[0];
                           const T* pb = b.ptr<T>() + off[1];
                           T* pc = c.ptr<T>() + off[2];
                           if (swap)
                             blas_gemm(g, alpha, beta, pb, pa, pc);
                           else
                             blas_gemm(g, alpha, beta, pa, pb, pc);
                         });
  if (c_copied) cpu.copy(c, c_in);
}

}  // namespace

void CpuBackend::matmul(const View& a, const View& b, const View& c, bool trans_a, bool trans_b, double alpha,
                        double beta) {
  const int nd = c.shape.size();
  if (nd < 2 || a.shape.size() != nd || b.shape.size() != nd)
    throw std::invalid_argument("cpu matmul: operands need the same rank >= 2, got " + a.shape.str() + ", " +
                                b.shape.str() + " -> " + c.shape.str());
  if (a.dtype != c.dtype || b.dtype != c.dtype)
    throw std::invalid_argument(std::string("cpu matmul: dtypes differ: ") + dtype_name(a.dtype) + ", " +
                                dtype_name(b.dtype) + " -> " + dtype_name(c.dtype));
  cpu::dispatch_floating(c.dtype, "cpu matmul", [&](auto zero) {
    using T = decltype(zero);
    matmul_typed<T>(*this, a, b, c, trans_a, trans_b, alpha, beta);
  });
}

}  // namespace glassbox::kernels
