#pragma once
// ProtoNet as a CLI task: its configuration schema and the train / eval / export /
// explain / bench handlers that `glassbox` dispatches to.
#include <nlohmann/json.hpp>

#include "models/common/decoder_check.h"
#include "models/common/run_data.h"
#include "models/protonet/protonet.h"
#include "trainers/config.h"
#include "trainers/data/image_dataset.h"
#include "trainers/model_registry.h"

namespace glassbox::models {

/// Every key protonet_*.cfg may hold (the common training keys included).
ConfigSchema protonet_schema();
ProtoNetOptions protonet_options(const Config& config, int64_t num_classes);
ProtoNetLossWeights protonet_loss_weights(const Config& config);

/// The data of a run (the paper holds out 5,000 of the 60,000 training images).
using ProtoNetData = RunData;
inline ProtoNetData load_protonet_data(const Config& config) { return load_run_data(config); }

void train_protonet(const TrainRequest& request);
void eval_protonet(const EvalRequest& request);
void export_protonet(const ExportRequest& request);
void explain_protonet(const ExplainRequest& request);
void bench_protonet(const BenchRequest& request);

/// Writes prototypes.png, prototype_NN.png, prototypes.json, class_weights.png and
/// nearest_training.png into `dir` for a trained model.
void write_protonet_exports(const ProtoNet& model, const data::ImageDataset& train, const std::string& dir);
/// One input's explanation: distances to each prototype, per-class evidence, prediction.
nlohmann::json explain_one(const ProtoNet& model, const data::ImageDataset& dataset, int64_t index);

}  // namespace glassbox::models
