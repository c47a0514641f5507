#pragma once
// The configuration keys every trainable model shares (data, epochs, batching,
// seed, threads, device, checkpoints). A model's schema merges these with its own.
#include <string>

#include "trainers/config.h"
#include "trainers/data/data_loader.h"
#include "trainers/trainer.h"

namespace glassbox {

/// The image models' keys: data set, validation split, and the training loop's.
ConfigSchema common_training_schema();
/// The training loop's keys alone (epochs, batch_size, seed, threads, device,
/// checkpoint_every), with a model's own defaults for epochs and batch size.
ConfigSchema training_loop_schema(const std::string& epochs, const std::string& batch_size);

/// The loop's options from the common keys (epochs, seed, checkpoint_every).
train::TrainerOptions trainer_options(const Config& config, const std::string& model_name);
/// The `device` key (cpu, cuda, cuda:N), checked against the devices this build can see.
Device training_device(const Config& config);
/// Batching from the common keys (batch_size, seed); augmentation stays the model's choice.
data::LoaderOptions loader_options(const Config& config);

}  // namespace glassbox
