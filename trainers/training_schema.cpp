#include "trainers/training_schema.h"

#include "kernels/registry.h"
#include "trainers/usage_error.h"

namespace glassbox {

ConfigSchema common_training_schema() {
  ConfigSchema s;
  s.add("dataset", ConfigType::text, "fashion-mnist", "data set: fashion-mnist or mnist")
      .one_of({"fashion-mnist", "mnist"})
      .add("data_dir", ConfigType::text, "", "folder with the data set's IDX files (empty: the default location)")
      .add("validation_size", ConfigType::integer, "5000", "training samples held out for validation")
      .at_least(0)
      .add("prefetch_batches", ConfigType::text, "auto",
           "prepare the next batch on a host thread while the step runs: true, false, or auto (true on a GPU)")
      .one_of({"auto", "true", "false"});
  return s.merge(training_loop_schema("10", "250"));
}

ConfigSchema training_loop_schema(const std::string& epochs, const std::string& batch_size) {
  ConfigSchema s;
  s.add("epochs", ConfigType::integer, epochs, "passes over the training set")
      .at_least(1)
      .add("batch_size", ConfigType::integer, batch_size, "samples per step")
      .at_least(1)
      .add("seed", ConfigType::integer, "0", "seeds initialisation, batch order and augmentation")
      .add("threads", ConfigType::integer, "0", "CPU threads (0: all cores)")
      .at_least(0)
      .add("device", ConfigType::text, "cpu", "cpu, cuda or cuda:N")
      .add("checkpoint_every", ConfigType::integer, "10", "epochs between checkpoints (one is also written at the end)")
      .at_least(0);
  return s;
}

train::TrainerOptions trainer_options(const Config& config, const std::string& model_name) {
  train::TrainerOptions to;
  to.model_name = model_name;
  to.epochs = config.get_int("epochs");
  to.seed = static_cast<uint64_t>(config.get_int("seed"));
  to.checkpoint_every = config.get_int("checkpoint_every");
  to.device = training_device(config);
  to.prefetch_batches = to.device.is_cuda();
  // The schema allows only auto, true or false.
  if (config.schema().find("prefetch_batches") != nullptr && config.get_string("prefetch_batches") != "auto")
    to.prefetch_batches = config.get_string("prefetch_batches") == "true";
  return to;
}

Device training_device(const Config& config) {
  if (config.schema().find("device") == nullptr) return Device::cpu();
  Device device;
  try {
    device = Device::parse(config.get_string("device"));
  } catch (const std::exception& e) {
    throw UsageError(config.origin("device") + ": " + e.what());
  }
  if (device.is_cuda() && device.index >= kernels::cuda_device_count()) {
    const int visible = kernels::cuda_device_count();
    const std::string load_error = kernels::cuda_load_error();
    if (!load_error.empty()) throw UsageError(config.origin("device") + ": " + device.str() + " asked for, but " + load_error);
    throw UsageError(config.origin("device") + ": " + device.str() + " asked for, but " +
                     (visible == 0 ? std::string(kernels::cuda_built() ? "no CUDA GPU is visible"
                                                                         : "glassbox was built without CUDA (nvcc not found)")
                                   : std::to_string(visible) + " CUDA device(s) are visible"));
  }
  return device;
}

data::LoaderOptions loader_options(const Config& config) {
  data::LoaderOptions lo;
  lo.batch_size = config.get_int("batch_size");
  lo.seed = static_cast<uint64_t>(config.get_int("seed"));
  return lo;
}

}  // namespace glassbox
