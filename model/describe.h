// Human-readable one-line descriptions of IR pieces, shared by the CLI table and the GUI.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "model/model.h"

namespace qs::model {

// "[1,32,32,3]"; "[]" for a scalar.
std::string formatShape(std::span<const int32_t> shape);
// "s=0.0235 zp=-128"; per-channel: "16 ch, s=[0.0012..0.0345] zp=0"; "" when not quantized.
std::string formatQuantization(const Quantization& q);
// Short key options of an op, e.g. "3x3 s2 SAME RELU6" for a conv; "" when there are none.
std::string formatKeyOptions(const Operator& op);
// The op's quantized weights: its first constant, quantized input of rank >= 2 (the filter of
// CONV_2D, the matrix of FULLY_CONNECTED, ...); nullptr when it has none.
const Tensor* quantizedWeights(const Subgraph& sg, const Operator& op);

}  // namespace qs::model
