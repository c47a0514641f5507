#pragma once
// Optimisers, learning-rate schedules and gradient clipping.
#include "engine/optim/adadelta.h"
#include "engine/optim/adam.h"
#include "engine/optim/clip_grad.h"
#include "engine/optim/lr_schedule.h"
#include "engine/optim/optimizer.h"
#include "engine/optim/sgd.h"
