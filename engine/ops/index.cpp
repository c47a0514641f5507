// Indexing and shaping ops: joins and splits built from narrow views, padding,
// and the gather/scatter family whose gradients are each other's kernels.
#include "engine/ops/index.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "engine/autograd/grad_mode.h"
#include "engine/autograd/node.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/op_utils.h"
#include "engine/ops/reduce.h"

namespace glassbox::ops {

using Grads = std::vector<Tensor>;

namespace {

std::string str(int64_t v) { return std::to_string(v); }

void check_index_tensor(const Tensor& index, const Tensor& like, const char* op) {
  if (index.dtype() != DType::i64)
    throw std::invalid_argument(std::string(op) + ": indices must be i64, got " + dtype_name(index.dtype()));
  check_same_device(index, like, op);
}

/// Copies each part into consecutive narrow windows of a new tensor along dim.
Tensor join_parts(const std::vector<Tensor>& parts, int dim, const Shape& out_shape) {
  Tensor out = empty_like_shape(parts[0], out_shape);
  int64_t at = 0;
  for (const Tensor& p : parts) {
    const int64_t n = p.shape()[dim];
    backend_of(out).copy(p.view(), out.narrow(dim, at, n).view());
    at += n;
  }
  return out;
}

/// Checks that every tensor shares dtype, device and shape, except along `skip_dim` (-1: none).
void check_joinable(const std::vector<Tensor>& ts, int skip_dim, const char* op) {
  if (ts.empty()) throw std::invalid_argument(std::string(op) + ": needs at least one tensor");
  for (size_t i = 1; i < ts.size(); ++i) {
    check_same_dtype(ts[0], ts[i], op);
    bool ok = ts[i].dim() == ts[0].dim();
    for (int d = 0; ok && d < ts[0].dim(); ++d) ok = d == skip_dim || ts[i].shape()[d] == ts[0].shape()[d];
    if (!ok)
      throw std::invalid_argument(std::string(op) + ": tensor " + std::to_string(i) + " has shape " +
                                  ts[i].shape().str() + ", incompatible with " + ts[0].shape().str() +
                                  (skip_dim >= 0 ? " (sizes must match except along dim " + std::to_string(skip_dim) + ")"
                                                 : " (shapes must be equal)"));
  }
}

/// out[.., index[..], ..] += src along dim, into a zero tensor of `shape` (gradient of gather).
Tensor scatter_into_zeros(const Shape& shape, int dim, const Tensor& index, const Tensor& src) {
  Tensor out = Tensor::zeros(shape, {src.dtype(), src.device()});
  backend_of(out).scatter_add(out.view(), dim, index.view(), src.view());
  return out;
}

Tensor gather_kernel(const Tensor& x, int dim, const Tensor& index) {
  Tensor out = empty_like_shape(x, index.shape());
  backend_of(x).gather(x.view(), dim, index.view(), out.view());
  return out;
}

/// Window [0, small[d]) on every dim of a zero tensor of `shape`, filled with `small`.
Tensor zero_extend(const Tensor& small, const Shape& shape) {
  if (small.shape() == shape) return small;
  Tensor out = Tensor::zeros(shape, {small.dtype(), small.device()});
  Tensor window = out;
  for (int d = 0; d < shape.size(); ++d) window = window.narrow(d, 0, small.shape()[d]);
  window.copy_(small);
  return out;
}

/// Smallest and largest value of an i64 tensor, computed by the backend.
std::pair<int64_t, int64_t> index_range(const Tensor& index) {
  Shape one = Dims::filled(index.dim(), 1);
  Tensor lo = empty_like_shape(index, one), hi = empty_like_shape(index, one);
  backend_of(index).reduce(kernels::ReduceOp::min, index.view(), lo.view());
  backend_of(index).reduce(kernels::ReduceOp::max, index.view(), hi.view());
  const std::vector<int64_t> both = concat({lo.reshape({1}), hi.reshape({1})}, 0).to_vector<int64_t>();  // one read
  return {both[0], both[1]};
}

}  // namespace

// ---- Joins and splits -------------------------------------------------------------

Tensor concat(const std::vector<Tensor>& tensors, int dim) {
  if (tensors.empty()) throw std::invalid_argument("concat: needs at least one tensor");
  if (tensors[0].dim() == 0) throw std::invalid_argument("concat: zero-dimensional tensors cannot be joined; use stack");
  dim = normalize_dim(dim, tensors[0].dim(), "concat");
  check_joinable(tensors, dim, "concat");
  Shape shape = tensors[0].shape();
  std::vector<Tensor> parts;
  std::vector<int64_t> sizes;
  shape[dim] = 0;
  for (const Tensor& t : tensors) {
    parts.push_back(t.detach());
    sizes.push_back(t.shape()[dim]);
    shape[dim] += t.shape()[dim];
  }
  Tensor out = join_parts(parts, dim, shape);
  return record(OpKind::concat, tensors, out, [dim, sizes](const Tensor& g) -> Grads {
    Grads grads;
    int64_t at = 0;
    for (int64_t n : sizes) {
      grads.push_back(g.narrow(dim, at, n));
      at += n;
    }
    return grads;
  });
}

Tensor stack(const std::vector<Tensor>& tensors, int dim) {
  if (tensors.empty()) throw std::invalid_argument("stack: needs at least one tensor");
  dim = normalize_dim(dim, tensors[0].dim() + 1, "stack");
  check_joinable(tensors, -1, "stack");
  std::vector<Tensor> parts;
  for (const Tensor& t : tensors) parts.push_back(t.detach().unsqueeze(dim));
  Shape shape = parts[0].shape();
  shape[dim] = int64_t(tensors.size());
  Tensor out = join_parts(parts, dim, shape);
  const int64_t count = int64_t(tensors.size());
  return record(OpKind::stack, tensors, out, [dim, count](const Tensor& g) -> Grads {
    Grads grads;
    for (int64_t i = 0; i < count; ++i) grads.push_back(g.select(dim, i));
    return grads;
  });
}

std::vector<Tensor> split(const Tensor& x, int64_t split_size, int dim) {
  dim = normalize_dim(dim, x.dim(), "split");
  const int64_t n = x.shape()[dim];
  if (split_size <= 0 && n > 0)
    throw std::invalid_argument("split: split_size must be positive, got " + str(split_size));
  if (n == 0) return {x.narrow(dim, 0, 0)};
  std::vector<Tensor> pieces;
  for (int64_t at = 0; at < n; at += split_size) pieces.push_back(x.narrow(dim, at, std::min(split_size, n - at)));
  return pieces;
}

std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int dim) {
  dim = normalize_dim(dim, x.dim(), "split");
  int64_t total = 0;
  for (int64_t s : sizes) {
    if (s < 0) throw std::invalid_argument("split: negative size " + str(s));
    total += s;
  }
  if (total != x.shape()[dim])
    throw std::invalid_argument("split: sizes sum to " + str(total) + " but dim " + std::to_string(dim) +
                                " has size " + str(x.shape()[dim]));
  std::vector<Tensor> pieces;
  int64_t at = 0;
  for (int64_t s : sizes) {
    pieces.push_back(x.narrow(dim, at, s));
    at += s;
  }
  return pieces;
}

std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int dim) {
  if (chunks <= 0) throw std::invalid_argument("chunk: chunks must be positive, got " + str(chunks));
  dim = normalize_dim(dim, x.dim(), "chunk");
  // As torch.chunk: pieces of ceil(n / chunks), so fewer than `chunks` may come back.
  const int64_t n = x.shape()[dim];
  return split(x, (n + chunks - 1) / chunks, dim);
}

// ---- Padding ------------------------------------------------------------------------

Tensor pad(const Tensor& x, const std::vector<int64_t>& pads, double value) {
  const int rank = x.dim();
  if (pads.size() % 2 != 0 || int(pads.size() / 2) > rank)
    throw std::invalid_argument("pad: pads must hold (before, after) pairs for at most " + std::to_string(rank) +
                                " dims, got " + std::to_string(pads.size()) + " values");
  // Negative pads crop, as in torch.nn.functional.pad: the copied window of x shrinks.
  Shape out_shape = x.shape();
  std::vector<int64_t> src_start(size_t(rank), 0), dst_start(size_t(rank), 0), len(x.shape().begin(), x.shape().end());
  bool crops = false;
  for (size_t j = 0; j < pads.size() / 2; ++j) {
    const int d = rank - 1 - int(j);
    const int64_t before = pads[2 * j], after = pads[2 * j + 1];
    out_shape[d] = x.shape()[d] + before + after;
    if (out_shape[d] < 0)
      throw std::invalid_argument("pad: pads (" + str(before) + ", " + str(after) + ") leave a negative size on dim " +
                                  std::to_string(d) + " of size " + str(x.shape()[d]));
    crops = crops || before < 0 || after < 0;
    src_start[size_t(d)] = std::max<int64_t>(0, -before);
    dst_start[size_t(d)] = std::max<int64_t>(0, before);
    len[size_t(d)] = std::max<int64_t>(0, x.shape()[d] - std::max<int64_t>(0, -before) - std::max<int64_t>(0, -after));
  }
  auto window = [rank](Tensor t, const std::vector<int64_t>& start, const std::vector<int64_t>& length) {
    for (int d = 0; d < rank; ++d) t = t.narrow(d, start[size_t(d)], length[size_t(d)]);
    return t;
  };
  Tensor out = Tensor::full(out_shape, value, {x.dtype(), x.device()});
  backend_of(x).copy(window(x.detach(), src_start, len).view(), window(out, dst_start, len).view());
  Shape in_shape = x.shape();
  return record(OpKind::pad, {&x}, out, [=](const Tensor& g) -> Grads {
    Tensor inner = window(g, dst_start, len);
    if (!crops) return {inner};
    Tensor gx = Tensor::zeros(in_shape, {g.dtype(), g.device()});
    window(gx, src_start, len).copy_(inner);
    return {gx};
  });
}

// ---- Gathers and scatters -------------------------------------------------------------

Tensor index_select(const Tensor& x, int dim, const Tensor& index) {
  if (x.dim() == 0) throw std::invalid_argument("index_select: needs a tensor with at least one dim");
  dim = normalize_dim(dim, x.dim(), "index_select");
  check_index_tensor(index, x, "index_select");
  if (index.dim() > 1)
    throw std::invalid_argument("index_select: index must be 0-d or 1-d, got shape " + index.shape().str());
  Tensor idx = index.detach().reshape({index.numel()});
  Shape shape = x.shape();
  shape[dim] = idx.numel();
  Tensor out = empty_like_shape(x, shape);
  backend_of(x).index_select(x.view(), dim, idx.view(), out.view());
  Shape in_shape = x.shape();
  return record(OpKind::index_select, {&x}, out, [in_shape, dim, si = SavedTensor(idx)](const Tensor& g) -> Grads {
    Tensor gx = Tensor::zeros(in_shape, {g.dtype(), g.device()});
    backend_of(gx).index_add(gx.view(), dim, si.get().view(), g.view());
    return {gx};
  });
}

Tensor gather(const Tensor& x, int dim, const Tensor& index) {
  if (x.dim() == 0) throw std::invalid_argument("gather: needs a tensor with at least one dim");
  dim = normalize_dim(dim, x.dim(), "gather");
  check_index_tensor(index, x, "gather");
  bool ok = index.dim() == x.dim();
  for (int d = 0; ok && d < x.dim(); ++d) ok = d == dim || index.shape()[d] <= x.shape()[d];
  if (!ok)
    throw std::invalid_argument("gather: index of shape " + index.shape().str() + " does not fit input of shape " +
                                x.shape().str() + " (same rank, index.size(d) <= input.size(d) for d != " +
                                std::to_string(dim) + ")");
  Tensor idx = index.detach();
  Tensor out = gather_kernel(x.detach(), dim, idx);
  Shape in_shape = x.shape();
  return record(OpKind::gather, {&x}, out, [in_shape, dim, si = SavedTensor(idx)](const Tensor& g) -> Grads {
    return {scatter_into_zeros(in_shape, dim, si.get(), g)};
  });
}

Tensor scatter_add(const Tensor& x, int dim, const Tensor& index, const Tensor& src) {
  if (x.dim() == 0) throw std::invalid_argument("scatter_add: needs a tensor with at least one dim");
  dim = normalize_dim(dim, x.dim(), "scatter_add");
  check_index_tensor(index, x, "scatter_add");
  check_same_dtype(x, src, "scatter_add");
  bool ok = index.dim() == x.dim() && src.dim() == x.dim();
  for (int d = 0; ok && d < x.dim(); ++d)
    ok = index.shape()[d] <= src.shape()[d] && (d == dim || index.shape()[d] <= x.shape()[d]);
  if (!ok)
    throw std::invalid_argument("scatter_add: index " + index.shape().str() + ", src " + src.shape().str() +
                                " and input " + x.shape().str() +
                                " do not fit (same rank, index.size(d) <= src.size(d), and index.size(d) <= "
                                "input.size(d) for d != " + std::to_string(dim) + ")");
  Tensor idx = index.detach();
  Tensor out = empty_like_shape(x, x.shape());
  backend_of(x).copy(x.view(), out.view());
  backend_of(x).scatter_add(out.view(), dim, idx.view(), src.view());
  const bool need_src = src.requires_grad();
  Shape src_shape = src.shape();
  return record(OpKind::scatter_add, {&x, &src}, out,
                [dim, need_src, src_shape, si = SavedTensor(idx)](const Tensor& g) -> Grads {
                  // Only the src elements that index addresses reach the output.
                  Tensor gsrc = need_src ? zero_extend(gather_kernel(g, dim, si.get()), src_shape) : Tensor();
                  return {g, gsrc};
                });
}

Tensor embedding(const Tensor& weight, const Tensor& indices) {
  if (weight.dim() != 2)
    throw std::invalid_argument("embedding: weight must be [num_embeddings, dim], got shape " + weight.shape().str());
  check_index_tensor(indices, weight, "embedding");
  const int64_t n = indices.numel(), width = weight.shape()[1];
  Tensor flat = indices.detach().reshape({n});
  Shape shape = indices.shape();
  shape.push_back(width);
  Tensor out = empty_like_shape(weight, shape);
  backend_of(weight).index_select(weight.view(), 0, flat.view(), out.view({n, width}).view());
  Shape w_shape = weight.shape();
  return record(OpKind::embedding, {&weight}, out, [w_shape, n, width, si = SavedTensor(flat)](const Tensor& g) -> Grads {
    // Rows looked up several times receive the sum of their gradients.
    Tensor gw = Tensor::zeros(w_shape, {g.dtype(), g.device()});
    backend_of(gw).index_add(gw.view(), 0, si.get().view(), g.reshape({n, width}).view());
    return {gw};
  });
}

Tensor one_hot(const Tensor& indices, int64_t num_classes, DType dtype) {
  if (indices.dtype() != DType::i64)
    throw std::invalid_argument(std::string("one_hot: indices must be i64, got ") + dtype_name(indices.dtype()));
  if (indices.numel() > 0) {
    auto [lo, hi] = index_range(indices);
    if (num_classes < 0) num_classes = hi + 1;
    if (lo < 0 || hi >= num_classes)
      throw std::out_of_range("one_hot: class index " + str(lo < 0 ? lo : hi) + " is out of range for num_classes " +
                              str(num_classes));
  } else if (num_classes < 0) {
    throw std::invalid_argument("one_hot: cannot infer num_classes from an empty tensor");
  }
  Shape shape = indices.shape();
  shape.push_back(num_classes);
  Tensor out = Tensor::zeros(shape, {dtype, indices.device()});
  Tensor idx = indices.detach().unsqueeze(-1);
  Tensor ones = Tensor::ones({1}, {dtype, indices.device()}).expand(idx.shape());
  backend_of(out).scatter_add(out.view(), out.dim() - 1, idx.view(), ones.view());
  return out;
}

Tensor one_hot_in_range(const Tensor& indices, int64_t num_classes, DType dtype) {
  if (indices.dtype() != DType::i64)
    throw std::invalid_argument(std::string("one_hot_in_range: indices must be i64, got ") + dtype_name(indices.dtype()));
  if (num_classes < 0)
    throw std::invalid_argument("one_hot_in_range: num_classes must be given (>= 0), got " + str(num_classes));
  const Tensor classes = Tensor::arange(num_classes, {.dtype = DType::i64, .device = indices.device()});
  return eq(indices.detach().unsqueeze(-1), classes).to(dtype);
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, double value) {
  if (mask.dtype() != DType::boolean)
    throw std::invalid_argument(std::string("masked_fill: mask must be bool, got ") + dtype_name(mask.dtype()));
  check_same_device(x, mask, "masked_fill");
  if (!(broadcast_shapes(x.shape(), mask.shape(), "masked_fill") == x.shape()))
    throw std::invalid_argument("masked_fill: mask of shape " + mask.shape().str() +
                                " does not broadcast to the input's shape " + x.shape().str());
  Tensor m = mask.detach().expand(x.shape());
  Tensor fill = Tensor::full({}, value, {x.dtype(), x.device()}).expand(x.shape());
  Tensor out = empty_like_shape(x, x.shape());
  backend_of(x).where(m.view(), fill.view(), x.view(), out.view());
  return record(OpKind::masked_fill, {&x}, out, [sm = SavedTensor(mask.detach())](const Tensor& g) -> Grads {
    return {where(sm.get(), Tensor::zeros({}, {g.dtype(), g.device()}), g)};
  });
}

Tensor repeat(const Tensor& x, const std::vector<int64_t>& repeats) {
  const int rank = int(repeats.size());
  if (rank < x.dim())
    throw std::invalid_argument("repeat: " + std::to_string(rank) + " repeats for a tensor of rank " +
                                std::to_string(x.dim()) + " (need at least one per dim)");
  // Each repeated dim is tiled by an unsqueeze/expand/reshape, which needs one spare dim.
  if (rank >= Dims::kMaxDims)
    throw std::invalid_argument("repeat: supports at most " + std::to_string(Dims::kMaxDims - 1) + " dims");
  Shape in_shape;
  for (int i = 0; i < rank - x.dim(); ++i) in_shape.push_back(1);
  for (int64_t s : x.shape()) in_shape.push_back(s);
  Shape out_shape = in_shape;
  for (int i = 0; i < rank; ++i) {
    if (repeats[size_t(i)] < 0) throw std::invalid_argument("repeat: negative repeat " + str(repeats[size_t(i)]));
    out_shape[i] *= repeats[size_t(i)];
  }
  Tensor out;
  {
    NoGradGuard no_grad;
    Tensor t = x.detach().reshape(in_shape);
    for (int i = 0; i < rank; ++i) {
      if (repeats[size_t(i)] == 1) continue;
      Shape tiled = t.shape();
      tiled.insert(i, repeats[size_t(i)]);
      Shape merged = t.shape();
      merged[i] *= repeats[size_t(i)];
      t = t.unsqueeze(i).expand(tiled).reshape(merged);
    }
    out = empty_like_shape(x, out_shape);
    backend_of(x).copy(t.view(), out.view());
  }
  Shape x_shape = x.shape();
  return record(OpKind::repeat, {&x}, out, [=](const Tensor& g) -> Grads {
    // Every tile's gradient lands on the same input element: sum the tiles away.
    Tensor gx = g;
    for (int i = rank - 1; i >= 0; --i) {
      if (repeats[size_t(i)] == 1) continue;
      Shape split_shape = gx.shape();
      split_shape[i] = in_shape[i];
      split_shape.insert(i, repeats[size_t(i)]);
      gx = sum(gx.reshape(split_shape), {i});
    }
    return {gx.reshape(x_shape)};
  });
}

}  // namespace glassbox::ops
