// Prepare-time folding of small op outputs whose inputs are all known at prepare.
//
// Shape arithmetic in a graph (SHAPE -> STRIDED_SLICE -> PACK -> ADD -> SPACE_TO_BATCH_ND,
// as TensorFlow emits for dilated convolutions) produces the operands that later ops need
// to compute their output shapes. TFLite evaluates such ops in Prepare when their inputs are
// constant or persistent (tensorflow/lite/kernels/kernel_util.h IsConstantOrPersistentTensor,
// shape.cc); the executor does the same through this function, after each op's prepare.
#pragma once

#include <memory>
#include <vector>

#include "engine/kernels/kernel.h"

namespace qs::engine {

// Largest output (elements) that is folded; shape operands are tiny.
inline constexpr int64_t kMaxFoldElements = 1 << 12;

// When every input of the prepared op is known (a constant or an output folded earlier)
// and every output has at most kMaxFoldElements elements, runs the kernel's eval on them,
// keeps the results in `storage` and publishes them as the outputs' `constant`. Outputs
// that a kernel already published in its prepare (SHAPE) are left alone. Returns true when
// the outputs are known after the call. The eval step still runs at run time and produces
// the same values.
bool foldKnownOutputs(PrepareContext& ctx, Kernel& kernel,
                      std::vector<std::unique_ptr<TensorValue>>& storage);

}  // namespace qs::engine
