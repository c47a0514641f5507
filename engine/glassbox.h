#pragma once
// One include for users of the engine.
#include "engine/autograd/function.h"
#include "engine/autograd/grad_mode.h"
#include "engine/ops/ops.h"
#include "engine/tensor.h"
