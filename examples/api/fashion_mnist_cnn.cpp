// A small CNN learns Fashion-MNIST the way a PyTorch tutorial would write it, with the library
// alone: layers in an nn::Sequential, Adam on model.parameters(), cross-entropy on shuffled
// mini-batches, test accuracy in eval mode, then the weights saved as safetensors (which PyTorch's
// safetensors package reads) and loaded into a fresh model that must predict exactly the same.
//
//   build/examples/fashion_mnist_cnn [--epochs N] [--train-images N] [--threads T] [--data-dir DIR]
//                                    [--out FILE] [--min-accuracy P]
//
// Exits 0 when the reloaded model agrees with the trained one on every test image and the test
// accuracy is at least P (default 0), 1 otherwise, and 2 on a usage error.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "engine/glassbox.h"
#include "engine/io/safetensors.h"
#include "engine/nn/nn.h"
#include "engine/optim/adam.h"
#include "kernels/cpu/cpu_backend.h"
#include "trainers/config.h"
#include "trainers/data/data_loader.h"

using namespace glassbox;

namespace {

// The program's flags, checked as the CLI checks a model's keys (types, ranges, the flag named
// in every error): --epochs 2, --train-images 3000, ... (dashes read as underscores).
ConfigSchema flags() {
  ConfigSchema s;
  s.add("epochs", ConfigType::integer, "2", "passes over the training images").at_least(1);
  s.add("train_images", ConfigType::integer, "0", "the first N training images (0: all 60,000)").at_least(0);
  s.add("threads", ConfigType::integer, "0", "CPU threads (0: every core)").at_least(0);
  s.add("data_dir", ConfigType::text, "", "Fashion-MNIST's IDX files (empty: where ./run puts them)");
  s.add("out", ConfigType::text, "fashion_mnist_cnn.safetensors", "where the weights are saved");
  s.add("min_accuracy", ConfigType::real, "0", "the test accuracy (0-1) below which the program fails");
  return s;
}

// conv 1->16 / 16->32 (3x3, padding 1) each with batch norm, ReLU and 2x2 max pooling, then a
// linear classifier on the 32 x 7 x 7 features: about 20k parameters.
std::shared_ptr<nn::Sequential> make_cnn(Generator& gen) {
  auto net = std::make_shared<nn::Sequential>();
  net->emplace_back<nn::Conv2d>(1, 16, 3, nn::Conv2dOptions{.padding = 1}, &gen);
  net->emplace_back<nn::BatchNorm2d>(16);
  net->emplace_back<nn::ReLU>();
  net->emplace_back<nn::MaxPool2d>(2);
  net->emplace_back<nn::Conv2d>(16, 32, 3, nn::Conv2dOptions{.padding = 1}, &gen);
  net->emplace_back<nn::BatchNorm2d>(32);
  net->emplace_back<nn::ReLU>();
  net->emplace_back<nn::MaxPool2d>(2);
  net->emplace_back<nn::Flatten>();
  net->emplace_back<nn::Linear>(32 * 7 * 7, 10, true, &gen);
  return net;
}

// The predicted class of every image, in batches, without recording a graph.
std::vector<int64_t> predict(nn::Sequential& net, const data::ImageDataset& set) {
  NoGradGuard no_grad;
  net.eval();
  std::vector<int64_t> predictions;
  constexpr int64_t kBatch = 1000;
  for (int64_t start = 0; start < set.size(); start += kBatch) {
    std::vector<int64_t> indices(size_t(std::min(kBatch, set.size() - start)));
    std::iota(indices.begin(), indices.end(), start);
    const std::vector<int64_t> batch = ops::argmax(net(set.gather(indices).images), 1).to_vector<int64_t>();
    predictions.insert(predictions.end(), batch.begin(), batch.end());
  }
  net.train();
  return predictions;
}

double accuracy(const std::vector<int64_t>& predictions, const data::ImageDataset& set) {
  const std::vector<int64_t> labels = set.labels.to_vector<int64_t>();
  int64_t right = 0;
  for (size_t i = 0; i < labels.size(); ++i) right += predictions[i] == labels[i];
  return double(right) / double(labels.size());
}

int run(const Config& o) {
  if (const int64_t threads = o.get_int("threads"); threads > 0) kernels::set_cpu_threads(int(threads));
  const std::string data_dir = o.get_string("data_dir"), out = o.get_string("out");
  data::ImageDataset train = data::load_dataset("fashion-mnist", data::Split::train, data_dir);
  const data::ImageDataset test = data::load_dataset("fashion-mnist", data::Split::test, data_dir);
  if (const int64_t n = o.get_int("train_images"); n > 0 && n < train.size()) {
    std::vector<int64_t> first(static_cast<size_t>(n));
    std::iota(first.begin(), first.end(), 0);
    train = train.subset(first, "[:" + std::to_string(n) + "]");
  }

  Generator gen(0);
  auto net = make_cnn(gen);
  optim::Adam adam(net->parameters(), {.lr = 1e-3});
  data::DataLoader loader(train, {.batch_size = 64, .seed = 0, .shuffle = true});
  std::printf("CNN with %lld parameters, %lld training images, batch 64, Adam lr 1e-3\n",
              static_cast<long long>(net->num_parameters()), static_cast<long long>(train.size()));

  for (int64_t epoch = 0, epochs = o.get_int("epochs"); epoch < epochs; ++epoch) {
    double loss_sum = 0;
    for (int64_t b = 0; b < loader.num_batches(); ++b) {
      const data::Batch batch = loader.batch(epoch, b);
      const Tensor loss = ops::cross_entropy((*net)(batch.images), batch.labels);
      adam.zero_grad();
      loss.backward();
      adam.step();
      loss_sum += loss.item();
    }
    std::printf("epoch %lld: mean training loss %.4f, test accuracy %.2f%%\n", static_cast<long long>(epoch + 1),
                loss_sum / double(loader.num_batches()), 100 * accuracy(predict(*net, test), test));
  }

  // Save, then load into a model built from another seed: only the file can make them agree.
  const std::vector<int64_t> trained = predict(*net, test);
  io::save_safetensors(net->state_dict(), out, {{"model", "fashion_mnist_cnn"}});
  Generator other(1);
  auto reloaded = make_cnn(other);
  reloaded->load_state_dict(io::load_safetensors(out));
  const bool same = predict(*reloaded, test) == trained;
  const double acc = accuracy(trained, test);
  std::printf("saved %s (%lld bytes); the reloaded model %s\n", out.c_str(),
              static_cast<long long>(std::filesystem::file_size(out)),
              same ? "predicts every test image as the trained one does" : "DISAGREES with the trained one");
  const double min_accuracy = o.get_double("min_accuracy");
  if (acc < min_accuracy)
    std::printf("test accuracy %.2f%% is under the asked-for %.2f%%\n", 100 * acc, 100 * min_accuracy);
  return same && acc >= min_accuracy ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Config options(flags());
  try {
    options.apply_overrides(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fashion_mnist_cnn: %s\nflags:\n%s", e.what(), describe_keys(options.schema()).c_str());
    return 2;
  }
  try {
    return run(options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fashion_mnist_cnn: %s\n", e.what());
    return 2;
  }
}
