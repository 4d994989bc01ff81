// Pairs the tensors of a quantized model with those of its float original (subgraph 0).
//
// 1. By name: a tensor name found exactly once in each model, with the same element count.
// 2. By graph position: graph inputs and outputs in order; then, walking the quantized ops in
//    execution order, an op whose data inputs are already paired is matched to the float op
//    that consumes the paired float tensors and has the same op type (or a known converter
//    substitute: RESHAPE/SQUEEZE/EXPAND_DIMS, FULLY_CONNECTED/BATCH_MATMUL); their outputs
//    and constant inputs pair by position. QUANTIZE/DEQUANTIZE ops of the quantized model
//    (which the float model does not have) pass their input's partner on to their output.
// What stays unmatched is listed; integer tensors that only carry shapes or axes (no
// quantization, not float) are listed apart, as they hold no values to compare.
#pragma once

#include <string>
#include <vector>

#include "model/ids.h"
#include "model/model.h"

namespace qs::engine::analysis {

enum class PairMethod { None, Name, Position, PassThrough };
std::string_view pairMethodName(PairMethod m);  // "", "name", "position", "pass-through"

struct TensorPairing {
    // Indexed by quantized tensor index: the float partner (invalid if none) and how it
    // was found.
    std::vector<TensorId> float_of;
    std::vector<PairMethod> method;
    std::vector<TensorId> unmatched_quant;  // value-carrying tensors without a partner
    std::vector<TensorId> unmatched_float;  // float tensors nobody pairs with
    // Shape/axis tensors without a partner, in each model (informational).
    std::vector<TensorId> unmatched_structural_quant, unmatched_structural_float;
    std::vector<std::string> notes;  // why (op type differences, shape mismatches)
    int paired = 0;

    bool complete() const { return unmatched_quant.empty() && unmatched_float.empty(); }
};

TensorPairing pairModels(const model::Model& quant, const model::Model& floatModel);

// The identity pairing of a model with its float twin (same indices).
TensorPairing identityPairing(const model::Model& quant);

// True for a tensor that holds values worth comparing (float, or quantized integer).
bool carriesValues(const model::Tensor& t);

}  // namespace qs::engine::analysis
