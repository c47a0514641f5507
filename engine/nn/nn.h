#pragma once
// Modules and layers.
#include "engine/nn/activation.h"
#include "engine/nn/conv.h"
#include "engine/nn/dropout.h"
#include "engine/nn/embedding.h"
#include "engine/nn/init.h"
#include "engine/nn/linear.h"
#include "engine/nn/module.h"
#include "engine/nn/normalization.h"
#include "engine/nn/parameter.h"
#include "engine/nn/pool.h"
#include "engine/nn/sequential.h"
#include "engine/nn/upsample.h"
