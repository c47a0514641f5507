// The CUDA backend's basics: device discovery, host round trips, clear errors.
#include <gtest/gtest.h>

#include <vector>

#include "engine/tensor.h"
#include "kernels/registry.h"
#include "tests/support/cuda_parity.h"

namespace glassbox {
namespace {

using testing::gpu;

TEST(CudaBackend, WithoutAGpuAskingForCudaSaysWhy) {
  if (kernels::cuda_available()) GTEST_SKIP() << "a GPU is visible; this checks the message given without one";
  try {
    Tensor::zeros({2}, {DType::f32, Device::cuda(0)});
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("cuda:0"), std::string::npos) << e.what();
  }
}

TEST(CudaBackend, HostRoundTripKeepsEveryDtype) {
  GLASSBOX_REQUIRE_CUDA();
  std::vector<double> v = {1.5, -2.0, 3.25, 0.0, 7.0, -1.0};
  for (DType t : {DType::f32, DType::f64, DType::i64, DType::i32, DType::u8}) {
    Tensor cpu = Tensor::from_vector(v, {2, 3}).to(t);
    if (t == DType::u8) cpu = Tensor::from_vector(std::vector<double>{1, 2, 3, 0, 7, 1}, {2, 3}).to(t);
    Tensor back = cpu.to(gpu()).to(Device::cpu());
    EXPECT_EQ(back.to_vector<double>(), cpu.to_vector<double>()) << dtype_name(t);
  }
}

TEST(CudaBackend, OutOfMemoryIsAClearError) {
  GLASSBOX_REQUIRE_REAL_CUDA();
  try {
    Tensor::empty({int64_t(1) << 40}, {DType::f32, gpu()});  // 4 TiB
    FAIL() << "expected out of memory";
  } catch (const std::bad_alloc& e) {
    EXPECT_NE(std::string(e.what()).find("out of memory"), std::string::npos) << e.what();
  }
}

TEST(CudaBackend, DeviceIndexBeyondTheVisibleOnesIsRejected) {
  GLASSBOX_REQUIRE_CUDA();
  EXPECT_THROW(Tensor::zeros({1}, {DType::f32, Device::cuda(kernels::cuda_device_count())}), std::runtime_error);
}

}  // namespace
}  // namespace glassbox
