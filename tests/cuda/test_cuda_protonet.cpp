// End-to-end CUDA parity: a few hundred ProtoNet training steps on the GPU follow the
// CPU run's loss curve (same seed, same batches), and a GPU checkpoint loads on the CPU.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <vector>

#include "engine/io/safetensors.h"
#include "engine/optim/adam.h"
#include "models/protonet/protonet.h"
#include "tests/support/cuda_parity.h"
#include "tests/support/synthetic_images.h"
#include "tests/support/temp_dir.h"

namespace glassbox {
namespace {

using testing::gpu;

constexpr int64_t kSteps = 300, kBatch = 50;

/// The loss after each of kSteps Adam steps of a ProtoNet built from seed 7 on `device`.
std::vector<double> loss_curve(Device device, std::unique_ptr<models::ProtoNet>* keep = nullptr) {
  static data::ImageDataset images = testing::synthetic_images(500, 6, 3);
  Generator gen(7);
  models::ProtoNetOptions o;
  o.num_classes = 6;
  o.num_prototypes = 12;
  auto model = std::make_unique<models::ProtoNet>(o, gen);
  model->to(device);
  optim::AdamOptions adam;
  adam.lr = 0.002;
  optim::Adam optimizer(model->parameters(), adam);
  std::vector<double> losses;
  for (int64_t s = 0; s < kSteps; ++s) {
    const int64_t start = (s * kBatch) % images.size();
    Tensor x = images.images.narrow(0, start, kBatch).to(device);
    Tensor y = images.labels.narrow(0, start, kBatch).to(device);
    models::ProtoNetLoss l = model->loss(model->forward(x), x, y, {});
    optimizer.zero_grad();
    l.total.backward();
    optimizer.step();
    losses.push_back(l.total.item());
  }
  if (keep) *keep = std::move(model);
  return losses;
}

TEST(CudaProtoNet, TrainingFollowsTheCpuLossCurve) {
  GLASSBOX_REQUIRE_CUDA();
  const std::vector<double> cpu = loss_curve(Device::cpu()), cuda = loss_curve(gpu());
  ASSERT_EQ(cpu.size(), cuda.size());
  // The first steps agree to f32 summation-order noise; later the two runs may drift
  // apart a little (Adam amplifies tiny differences), so compare 30-step means.
  for (int64_t s = 0; s < 10; ++s)
    EXPECT_NEAR(cuda[size_t(s)], cpu[size_t(s)], 1e-3 * std::abs(cpu[size_t(s)])) << "step " << s;
  for (int64_t w = 0; w < kSteps / 30; ++w) {
    double a = 0, b = 0;
    for (int64_t s = w * 30; s < (w + 1) * 30; ++s) {
      a += cpu[size_t(s)];
      b += cuda[size_t(s)];
    }
    EXPECT_NEAR(b, a, 0.03 * std::abs(a)) << "steps " << w * 30 << ".." << (w + 1) * 30 - 1;
  }
  EXPECT_LT(cuda.back(), 0.5 * cuda.front()) << "the GPU run did not learn";
}

TEST(CudaProtoNet, GpuCheckpointLoadsOnTheCpu) {
  GLASSBOX_REQUIRE_CUDA();
  std::unique_ptr<models::ProtoNet> trained;
  loss_curve(gpu(), &trained);
  testing::TempDir dir;
  const std::string path = (dir.path() / "protonet.safetensors").string();
  io::save_safetensors(trained->state_dict(), path);
  Generator gen(99);
  models::ProtoNetOptions o;
  o.num_classes = 6;
  o.num_prototypes = 12;
  models::ProtoNet restored(o, gen);
  restored.load_state_dict(io::load_safetensors(path, Device::cpu()));
  const auto restored_state = restored.state_dict();
  for (const auto& [name, value] : trained->state_dict())
    EXPECT_TRUE(testing::same_values(restored_state.at(name), value, {0, 0})) << name;
  Tensor x = testing::synthetic_images(20, 6, 11).images;
  EXPECT_TRUE(testing::same_values(restored.forward(x, false).logits, trained->forward(x.to(gpu()), false).logits,
                                   testing::f32_tolerance()));
}

}  // namespace
}  // namespace glassbox
