#include "trainers/training_schema.h"

namespace glassbox {

ConfigSchema common_training_schema() {
  ConfigSchema s;
  s.add("dataset", ConfigType::text, "fashion-mnist", "data set: fashion-mnist or mnist")
      .add("data_dir", ConfigType::text, "", "folder with the data set's IDX files (empty: the default location)")
      .add("epochs", ConfigType::integer, "10", "passes over the training set")
      .add("batch_size", ConfigType::integer, "250", "samples per step")
      .add("validation_size", ConfigType::integer, "5000", "training samples held out for validation")
      .add("seed", ConfigType::integer, "0", "seeds initialisation, batch order and augmentation")
      .add("threads", ConfigType::integer, "0", "CPU threads (0: all cores)")
      .add("device", ConfigType::text, "cpu", "cpu, cuda or cuda:N")
      .add("checkpoint_every", ConfigType::integer, "10",
           "epochs between checkpoints (one is also written at the end)");
  return s;
}

}  // namespace glassbox
