#pragma once
// The whole op catalog.
#include "engine/ops/activation.h"
#include "engine/ops/conv.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/index.h"
#include "engine/ops/linalg.h"
#include "engine/ops/loss.h"
#include "engine/ops/random.h"
#include "engine/ops/reduce.h"
