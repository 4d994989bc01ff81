// ADD's XNNPACK parameters, exposed for the element trace (engine/trace/), which shows the
// arithmetic the kernel in add.cpp runs.
#pragma once

#include <cstdint>
#include <optional>

namespace qs::engine::kernels {

// XNNPACK's quantized ADD parameters; see add.cpp for the derivation and upstream sources.
struct XnnpackAddParams {
    int32_t a_multiplier = 0, b_multiplier = 0, bias = 0, shift = 0, output_zero_point = 0;
};

// nullopt when the XNNPACK delegate would not take the op (scale ratio out of range).
std::optional<XnnpackAddParams> xnnpackAddParams(float scale_a, int32_t zp_a, float scale_b,
                                                 int32_t zp_b, float scale_out, int32_t zp_out);

}  // namespace qs::engine::kernels
