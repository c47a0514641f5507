#pragma once
// Files: safetensors checkpoints, JSON sidecars, PNG images; all written atomically.
#include "engine/io/atomic_file.h"
#include "engine/io/json_file.h"
#include "engine/io/png.h"
#include "engine/io/safetensors.h"
