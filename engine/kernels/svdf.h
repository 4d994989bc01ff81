// SVDF: a fully-connected layer factored into a feature matmul and a time filter over a
// memory of the last `memory_size` feature activations, kept in a variable state tensor
// (inputs: 0 input [batch, input_size], 1 weights_feature [num_filters, input_size],
// 2 weights_time [num_filters, memory_size], 3 bias [num_units] (optional),
// 4 activation_state [batch, memory_size * num_filters] (variable); output [batch, num_units],
// num_units = num_filters / rank).
//
// Upstream: tensorflow/lite/micro/kernels/svdf_common.cc (TFLM) and
// tensorflow/lite/kernels/internal/reference/svdf.h (TFLite builtin; same order of state
// update since TFLite 2.4: shift the state left by one first, then write the newest column).
#pragma once

#include "engine/kernels/common.h"

namespace qs::engine::kernels {

// Field names follow TFLM's OpDataSvdf (tensorflow/lite/micro/kernels/svdf.h) and
// TfLiteSVDFParams.
struct SvdfParams {
    int32_t rank = 1;
    model::Activation activation = model::Activation::None;  // float only
    int32_t effective_scale_1_a = 0;                         // input * weights_feature -> state
    int effective_scale_1_b = 0;
    int32_t effective_scale_2_a = 0;  // state * weights_time -> output
    int effective_scale_2_b = 0;
    int32_t input_zero_point = 0;
    int32_t output_zero_point = 0;
    int32_t activation_state_zero_point = 0;  // TFLM int8 state; TFLite builtin requires 0
    RequantRule rule = RequantRule::DoubleRounding;
    // Float: TFLM starts the output from the bias and adds the rank sums; TFLite builtin sums
    // the rank first and adds the bias last (reference/svdf.h ApplyTimeWeightsBiasAndActivation).
    bool bias_first = true;
};

struct SvdfShape {
    int32_t batch = 1, input_size = 1, num_filters = 1, memory_size = 1;
    int32_t units(int32_t rank) const { return num_filters / rank; }
};

// Float SVDF; `state` is updated in place, `scratch` holds batch * num_filters floats.
void svdfReference(const SvdfParams& p, const SvdfShape& s, const float* input,
                   const float* weights_feature, const float* weights_time, const float* bias,
                   float* state, float* scratch, float* output);

// Integer SVDF (int8 input/output/feature weights; int8 or int16 time weights and state,
// as TFLM's EvalIntegerSvdfReference<T>). `scratch` holds batch * num_filters int32.
template <class T>
void svdfIntegerReference(const SvdfParams& p, const SvdfShape& s, const int8_t* input,
                          const int8_t* weights_feature, const T* weights_time, const int32_t* bias,
                          T* state, int32_t* scratch, int8_t* output);

}  // namespace qs::engine::kernels
