// Deterministic inputs for tensors without an input file: the same seed gives the same bytes
// on every platform (own SplitMix64 generator, no std:: distributions).
#pragma once

#include <cstdint>

#include "engine/tensor_value.h"
#include "model/model.h"

namespace qs::engine {

// Integer dtypes: uniform over the full range; float: uniform in [-1, 1); bool: {0, 1}.
// `input_index` decorrelates the inputs of one model under one seed.
Result<TensorValue> seededFill(const model::Tensor& tensor, uint64_t seed, int input_index);

}  // namespace qs::engine
