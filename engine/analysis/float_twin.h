// The float reference of a model ("float twin"): the same graph with every quantized or
// float16 tensor turned into FLOAT32, so the engine's float kernels run it.
//
//   auto twin = qs::engine::analysis::makeFloatTwin(model);
//   auto r = qs::engine::run(twin->model, SubgraphId{0}, float_inputs, {});
//
// - Quantized constants (int4/int8/uint8/int16, int32/int64 biases; per-tensor or per-channel)
//   are dequantized as TFLite's DEQUANTIZE does (reference/dequantize.h: the scale widened to
//   double, times (q - zero_point), stored as float). float16 constants become float32. The
//   new bytes are owned by the twin's ModelStorage, which also keeps the source model alive.
// - Quantized non-constant tensors become FLOAT32 without quantization parameters, so fused
//   activations are applied in float by the float kernels.
// - QUANTIZE and DEQUANTIZE (including int->int requantization) become identities: the
//   engine's (DE)QUANTIZE kernels only accept a quantized side, so the twin rewrites them as
//   RESHAPE with no shape input and no options, which copies its input to the output's static
//   shape (engine/kernels/shape_ops.cpp ReshapeKernel).
// - An op with no fused activation whose quantized output range is exactly [0, 6] (or starts
//   at 0 on a tensor named Relu*) gets that RELU6 / RELU in the twin: legacy converters
//   folded the activation into the range (float_twin.cpp impliedActivation). Listed in notes.
// - Float models come out unchanged; hybrid (dynamic-range) and float16-weight models become
//   pure float32 models.
// Tensor and op indices are those of the source model, so values compare index by index.
#pragma once

#include <string>
#include <vector>

#include "engine/tensor_value.h"
#include "model/error.h"
#include "model/model.h"

namespace qs::engine::analysis {

struct FloatTwin {
    model::Model model;
    int dequantized_constants = 0;  // constants rewritten as float32
    int converted_activations = 0;  // non-constant tensors turned into float32
    int identity_ops = 0;           // QUANTIZE/DEQUANTIZE turned into identities
    int implied_activations = 0;    // fused ReLU/ReLU6 restored from output ranges
    // What could not be converted (the op will stop the run) and the implied activations.
    std::vector<std::string> notes;
};

Result<FloatTwin> makeFloatTwin(const model::Model& model);

// True for a tensor the twin converts (quantized integer or float16).
bool twinConverts(const model::Tensor& tensor);

// The checks dequantizeValue makes before it reads `q`: parameters present, no custom
// details, as many per-channel scales as shape[quantized_dimension]; `what` names the value
// in the message.
Result<void> checkChannels(std::span<const int32_t> shape, const model::Quantization& q,
                           const std::string& what);
// A float32 copy of a runtime value: quantized integers are dequantized with `q` (per-channel
// along q.quantized_dimension), float16 is widened, float32 is copied. Other dtypes are errors.
Result<TensorValue> dequantizeValue(const TensorValue& value, const model::Quantization& q);
// The float32 values of a constant tensor of the model (int4 unpacked low nibble first, as
// TFLite's tensor_utils UnpackDenseInt4IntoInt8 does).
Result<std::vector<float>> dequantizeConstant(const model::Tensor& tensor);
// Whether dequantizeConstant accepts the tensor, without dequantizing it.
bool dequantizable(const model::Tensor& tensor);

// Quantizes float32 data to a quantized integer tensor's dtype with its (per-tensor)
// parameters: round half away from zero, add the zero point, clamp (TFLite AffineQuantize,
// reference/quantize.h).
Result<TensorValue> quantizeValue(const TensorValue& value, model::DType dtype,
                                  const model::Quantization& q);

// Brings a given input value to what `target` expects: same dtype passes; a quantized integer
// value (with its parameters `given_quant`) for a float32 target is dequantized; float32 for a
// quantized integer target is quantized with the target's parameters.
Result<TensorValue> adaptInput(const TensorValue& given, const model::Quantization& given_quant,
                               const model::Tensor& target);

// IEEE binary16 -> binary32 (exact).
float halfToFloat(uint16_t h);

}  // namespace qs::engine::analysis
