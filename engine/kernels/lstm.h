// UNIDIRECTIONAL_SEQUENCE_LSTM (float, and the int8x8_16 integer LSTM below): an LSTM run over the
// time axis of a [batch, time, input] (or time-major [time, batch, input]) sequence, with the
// output state (h) and cell state (c) kept in the op's two variable tensors. Inputs (TFLite's
// order, tensorflow/lite/kernels/lstm_shared.h):
//   0 input                      1-4 input_to_{input,forget,cell,output}_weights [n_cell, n_input]
//   5-8 recurrent_to_{input,forget,cell,output}_weights [n_cell, n_output]
//   9-11 cell_to_{input,forget,output}_weights [n_cell] (peephole, optional)
//   12-15 {input,forget,cell,output}_gate_bias [n_cell]
//   16 projection_weights [n_output, n_cell], 17 projection_bias [n_output] (optional)
//   18 output_state [batch, n_output] (variable), 19 cell_state [batch, n_cell] (variable)
//   20-23 {input,forget,cell,output}_layer_norm_coefficients [n_cell] (optional)
// Omitted input-gate tensors (1, 5, 9, 12, 20) mean CIFG: input gate = 1 - forget gate.
//
// Upstream: tensorflow/lite/kernels/unidirectional_sequence_lstm.cc (Prepare's shape checks)
// and tensorflow/lite/kernels/lstm_eval.cc EvalFloat / LstmStepFloat with
// CalculateLstmGateFloat, UpdateLstmCellFloat, CalculateLstmOutputFloat and
// internal/reference/portable_tensor_utils.cc for the vector helpers.
#pragma once

#include "engine/kernels/common.h"

namespace qs::engine::kernels {

// TfLiteUnidirectionalSequenceLSTMParams.
struct LstmParams {
    model::Activation activation = model::Activation::Tanh;  // cell gate and cell output
    float cell_clip = 0.0f;  // > 0: the cell state is clipped to [-cell_clip, cell_clip]
    float proj_clip = 0.0f;  // > 0: the projection output is clipped likewise
    bool time_major = false;
    // Recurrent weights given as their diagonal [n_cell] (n_output == n_cell).
    bool diagonal_recurrent_tensors = false;
};

struct LstmShape {
    int32_t max_time = 1, n_batch = 1, n_input = 1, n_cell = 1, n_output = 1;
};

// The float tensors of one LSTM, by role; null for an omitted optional tensor.
struct LstmFloatWeights {
    const float* input_to_input = nullptr;
    const float* input_to_forget = nullptr;
    const float* input_to_cell = nullptr;
    const float* input_to_output = nullptr;
    const float* recurrent_to_input = nullptr;
    const float* recurrent_to_forget = nullptr;
    const float* recurrent_to_cell = nullptr;
    const float* recurrent_to_output = nullptr;
    const float* cell_to_input = nullptr;
    const float* cell_to_forget = nullptr;
    const float* cell_to_output = nullptr;
    const float* input_gate_bias = nullptr;
    const float* forget_gate_bias = nullptr;
    const float* cell_gate_bias = nullptr;
    const float* output_gate_bias = nullptr;
    const float* projection_weights = nullptr;
    const float* projection_bias = nullptr;
    const float* input_layer_norm = nullptr;
    const float* forget_layer_norm = nullptr;
    const float* cell_layer_norm = nullptr;
    const float* output_layer_norm = nullptr;
};

// Runs every time step. `output_state` [n_batch, n_output] and `cell_state` [n_batch, n_cell]
// are read as the initial state and left as the final one; `output` is [n_batch, max_time,
// n_output] (or time-major). `scratch` holds 4 * n_cell floats.
void lstmFloatReference(const LstmParams& p, const LstmShape& s, const LstmFloatWeights& w,
                        const float* input, float* output_state, float* cell_state, float* output,
                        float* scratch);

// The integer "8x8_16" LSTM (int8 input/weights/output state, int16 cell state and gates):
// TFLite's lstm_eval.cc EvalInteger8x8_16 / LstmStepInteger8x8_16 with
// CalculateLstmGateInteger8x8_16, UpdateLstmCellInteger and CalculateLstmOutputInteger8x8_16.
// Per gate (i, f, c, o) the fields of lstm_eval::IntegerLstmParameter:
// effective_{input,recurrent,cell}_to_<gate>_scale_{a,b}, the zero-point-folded biases
// {input,recurrent}_to_<gate>_effective_bias, layer_norm_<gate>_scale_{a,b} and
// <gate>_variance_guard.
struct LstmGateQuant {
    int32_t effective_input_scale_a = 0;
    int effective_input_scale_b = 0;
    int32_t effective_recurrent_scale_a = 0;
    int effective_recurrent_scale_b = 0;
    // gate bias (none with layer norm) - input_zp * row sums
    std::vector<int32_t> input_effective_bias;
    std::vector<int32_t> recurrent_effective_bias;  // -output_state_zp * row sums
    // Peephole: 2^cell_scale * cell_to_<gate> scale / gate scale.
    int32_t effective_cell_scale_a = 0;
    int effective_cell_scale_b = 0;
    // Layer norm: the coefficients' scale, the variance floor, and the raw gate bias, which
    // ApplyLayerNorm adds after normalising (lstm.cc folds no bias into the matmul then).
    int32_t layer_norm_scale_a = 0;
    int layer_norm_scale_b = 0;
    int32_t variance_guard = 1;
    std::vector<int32_t> layer_norm_bias;
};

struct LstmIntegerParams {
    LstmGateQuant gates[4];  // input, forget, cell, output
    int32_t effective_hidden_scale_a = 0;
    int effective_hidden_scale_b = 0;
    int32_t hidden_zp = 0;
    int cell_scale = -11;             // log2 of the cell state scale (a power of two)
    int16_t quantized_cell_clip = 0;  // > 0: clip the cell state to +-this
    // Projection: projection scale * hidden scale / output_state scale, the projection bias
    // plus hidden_zp * row sums (upstream's sign), the output state zero point and the
    // int8 projection clip (> 0: clip to +-this).
    int32_t effective_proj_scale_a = 0;
    int effective_proj_scale_b = 0;
    std::vector<int32_t> projection_effective_bias;
    int32_t output_state_zp = 0;
    int8_t quantized_proj_clip = 0;
    RequantRule rule = RequantRule::DoubleRounding;
};

struct LstmIntegerWeights {
    const int8_t* input_to[4] = {};      // [n_cell, n_input]; input_to[0] null under CIFG
    const int8_t* recurrent_to[4] = {};  // [n_cell, n_output]
    const int16_t* cell_to[4] = {};      // peephole [n_cell]; [2] always null, [0] under CIFG
    const int16_t* layer_norm[4] = {};   // [n_cell] coefficients; null without layer norm
    const int8_t* projection = nullptr;  // [n_output, n_cell]
};

// `scratch` holds 4 * n_cell int16 and `hidden` n_cell int8.
void lstmInteger8x8_16Reference(const LstmParams& p, const LstmShape& s, const LstmIntegerParams& q,
                                const LstmIntegerWeights& w, const int8_t* input,
                                int8_t* output_state, int16_t* cell_state, int8_t* output,
                                int16_t* scratch, int8_t* hidden);

// portable_tensor_utils.cc PortableApplyLayerNorm on one row of `n` int16 gate values
// (in place): integer mean and variance (x1024), 1/sqrt by GetInvSqrtQuantizedMultiplierExp,
// times the coefficient, plus the bias, back to the gate scale. Exposed for tests.
void applyLayerNormInt16(RequantRule rule, int16_t* gate, const int16_t* coefficients,
                         const int32_t* bias, int32_t scale_a, int scale_b, int32_t variance_guard,
                         int32_t n);

}  // namespace qs::engine::kernels
