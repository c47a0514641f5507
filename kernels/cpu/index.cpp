// CPU indexing kernels: index_select, index_add, gather, scatter_add over strided
// views. Every index is checked before any memory is touched, and the accumulating
// kernels split work so that no two threads ever add into the same element.
#include <omp.h>

#include <atomic>
#include <stdexcept>
#include <string>

#include "kernels/cpu/cpu_backend.h"
#include "kernels/cpu/strided_loop.h"

namespace glassbox::kernels {

namespace {

using cpu::strided_for;

/// Throws std::out_of_range naming `op` if any i64 in `index` lies outside [0, size).
/// The scan runs first and may be parallel, so it only records the first bad value.
void check_indices(const View& index, int64_t size, int dim, const char* op) {
  if (index.dtype != DType::i64)
    throw std::invalid_argument(std::string(op) + ": indices must be i64, got " + dtype_name(index.dtype));
  std::atomic<bool> bad{false};
  int64_t bad_value = 0;
  strided_for<1>(index.shape, {&index.strides}, {static_cast<char*>(index.data)}, {int64_t(sizeof(int64_t))},
                 [&](const std::array<char*, 1>& p, const std::array<int64_t, 1>& s, int64_t n) {
                   const int64_t* ix = reinterpret_cast<const int64_t*>(p[0]);
                   for (int64_t i = 0; i < n; ++i) {
                     const int64_t v = ix[i * s[0]];
                     if (v < 0 || v >= size) {
                       if (!bad.exchange(true)) bad_value = v;
                       return;
                     }
                   }
                 });
  if (bad.load())
    throw std::out_of_range(std::string(op) + ": index " + std::to_string(bad_value) + " is out of range for dim " +
                            std::to_string(dim) + " of size " + std::to_string(size));
}

/// v without dimension `dim` (the slice every index position addresses).
View drop_dim(const View& v, int dim) {
  View s = v;
  s.shape.erase(dim);
  s.strides.erase(dim);
  return s;
}

/// The value index[k] of a 1-d index view.
inline int64_t index_at(const View& index, int64_t k) { return index.ptr<int64_t>()[k * index.strides[0]]; }

/// Copies (or adds) one slice of a source into one slice of a destination, both with
/// the slice shape `shape`. Small slices that are contiguous on both sides (embedding
/// rows) take a plain loop: planning a strided loop per slice would cost more than the copy.
template <class T, bool Accumulate>
struct SliceCopy {
  Shape shape;
  Strides src_strides, dst_strides;
  int64_t numel;
  bool plain;

  SliceCopy(const View& src_slice, const View& dst_slice)
      : shape(dst_slice.shape), src_strides(src_slice.strides), dst_strides(dst_slice.strides),
        numel(dst_slice.numel()),
        plain(src_slice.is_contiguous() && dst_slice.is_contiguous() && numel < cpu::kParallelGrain) {}

  static void row(const T* a, int64_t sa, T* o, int64_t so, int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
      if constexpr (Accumulate)
        o[i * so] = T(o[i * so] + a[i * sa]);
      else
        o[i * so] = a[i * sa];
    }
  }

  void operator()(char* src, char* dst) const {
    if (plain) {
      row(reinterpret_cast<const T*>(src), 1, reinterpret_cast<T*>(dst), 1, numel);
      return;
    }
    strided_for<2>(shape, {&src_strides, &dst_strides}, {src, dst}, {int64_t(sizeof(T)), int64_t(sizeof(T))},
                   [](const std::array<char*, 2>& p, const std::array<int64_t, 2>& s, int64_t n) {
                     row(reinterpret_cast<const T*>(p[0]), s[0], reinterpret_cast<T*>(p[1]), s[1], n);
                   });
  }
};

void check_index_vector(const View& index, const char* op) {
  if (index.shape.size() != 1) throw std::invalid_argument(std::string(op) + ": index must be 1-d, got " + index.shape.str());
}

}  // namespace

void CpuBackend::index_select(const View& x, int dim, const View& index, const View& out) {
  check_index_vector(index, "index_select");
  check_indices(index, x.shape[dim], dim, "index_select");
  const View xs = drop_dim(x, dim), os = drop_dim(out, dim);
  const int64_t k_count = index.shape[0], slice = os.numel();
  cpu::dispatch_all(x.dtype, [&](auto z) {
    using T = decltype(z);
    char* xb = static_cast<char*>(x.data);
    char* ob = static_cast<char*>(out.data);
    const SliceCopy<T, false> copy_slice(xs, os);
    // Many small slices (embedding lookups): threads take whole slices; each output
    // slice is written by one thread. Few large slices: the slice copy itself is parallel.
    const bool by_slice = k_count >= omp_get_max_threads() && k_count * slice >= cpu::kParallelGrain;
#pragma omp parallel for schedule(static) if (by_slice && !omp_in_parallel())
    for (int64_t k = 0; k < k_count; ++k) {
      char* src = xb + index_at(index, k) * x.strides[dim] * int64_t(sizeof(T));
      char* dst = ob + k * out.strides[dim] * int64_t(sizeof(T));
      copy_slice(src, dst);
    }
  });
}

void CpuBackend::index_add(const View& out, int dim, const View& index, const View& src) {
  check_index_vector(index, "index_add");
  check_indices(index, out.shape[dim], dim, "index_add");
  const View os = drop_dim(out, dim), ss = drop_dim(src, dim);
  const int64_t k_count = index.shape[0], slice = os.numel(), rows = out.shape[dim];
  cpu::dispatch_all(out.dtype, [&](auto z) {
    using T = decltype(z);
    char* ob = static_cast<char*>(out.data);
    char* sb = static_cast<char*>(src.data);
    const SliceCopy<T, true> add(ss, os);
    auto add_slice = [&](int64_t k, int64_t target) {
      add(sb + k * src.strides[dim] * int64_t(sizeof(T)), ob + target * out.strides[dim] * int64_t(sizeof(T)));
    };
    // Duplicate indices add into the same slice, so threads own disjoint ranges of
    // destination slices; each scans all indices and keeps the ones it owns. The
    // additions into a slice happen in index order, so results are deterministic.
    const int threads = omp_get_max_threads();
    const bool by_owner = rows >= threads && threads > 1 && k_count * slice >= cpu::kParallelGrain && !omp_in_parallel();
    if (!by_owner) {
      for (int64_t k = 0; k < k_count; ++k) add_slice(k, index_at(index, k));
      return;
    }
#pragma omp parallel
    {
      const int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
      const int64_t lo = rows * t / nt, hi = rows * (t + 1) / nt;
      for (int64_t k = 0; k < k_count; ++k) {
        const int64_t target = index_at(index, k);
        if (target >= lo && target < hi) add_slice(k, target);
      }
    }
  });
}

void CpuBackend::gather(const View& x, int dim, const View& index, const View& out) {
  check_indices(index, x.shape[dim], dim, "gather");
  // x seen with out's shape and stride 0 along dim: the index supplies that coordinate.
  Strides xs = x.strides;
  xs[dim] = 0;
  const int64_t step = x.strides[dim];
  cpu::dispatch_all(x.dtype, [&](auto z) {
    using T = decltype(z);
    strided_for<3>(out.shape, {&xs, &index.strides, &out.strides},
                   {static_cast<char*>(x.data), static_cast<char*>(index.data), static_cast<char*>(out.data)},
                   {int64_t(sizeof(T)), int64_t(sizeof(int64_t)), int64_t(sizeof(T))},
                   [step](const std::array<char*, 3>& p, const std::array<int64_t, 3>& s, int64_t n) {
                     const T* a = reinterpret_cast<const T*>(p[0]);
                     const int64_t* ix = reinterpret_cast<const int64_t*>(p[1]);
                     T* o = reinterpret_cast<T*>(p[2]);
                     for (int64_t i = 0; i < n; ++i) o[i * s[2]] = a[i * s[0] + ix[i * s[1]] * step];
                   });
  });
}

void CpuBackend::scatter_add(const View& out, int dim, const View& index, const View& src) {
  check_indices(index, out.shape[dim], dim, "scatter_add");
  // Index positions that differ outside `dim` write different elements of out, so the
  // loop runs in parallel over those positions and walks `dim` serially inside.
  const View is = drop_dim(index, dim);
  Strides os = drop_dim(out, dim).strides, ss = drop_dim(src, dim).strides;
  const int64_t len = index.shape[dim], o_step = out.strides[dim], s_step = src.strides[dim],
                i_step = index.strides[dim];
  cpu::dispatch_all(out.dtype, [&](auto z) {
    using T = decltype(z);
    strided_for<3>(is.shape, {&os, &is.strides, &ss},
                   {static_cast<char*>(out.data), static_cast<char*>(index.data), static_cast<char*>(src.data)},
                   {int64_t(sizeof(T)), int64_t(sizeof(int64_t)), int64_t(sizeof(T))},
                   [=](const std::array<char*, 3>& p, const std::array<int64_t, 3>& s, int64_t n) {
                     T* o = reinterpret_cast<T*>(p[0]);
                     const int64_t* ix = reinterpret_cast<const int64_t*>(p[1]);
                     const T* a = reinterpret_cast<const T*>(p[2]);
                     for (int64_t i = 0; i < n; ++i)
                       for (int64_t j = 0; j < len; ++j) {
                         T& dst = o[i * s[0] + ix[i * s[1] + j * i_step] * o_step];
                         dst = T(dst + a[i * s[2] + j * s_step]);
                       }
                   });
  });
}

}  // namespace glassbox::kernels
