#pragma once
// The configuration keys every trainable model shares (data, epochs, batching,
// seed, threads, device, checkpoints). A model's schema merges these with its own.
#include "trainers/config.h"

namespace glassbox {

ConfigSchema common_training_schema();

}  // namespace glassbox
