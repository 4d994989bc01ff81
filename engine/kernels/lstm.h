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
// TFLite's lstm_eval.cc EvalInteger8x8_16 / LstmStepInteger8x8_16. Per gate (i, f, c, o) the
// fields of lstm_eval::IntegerLstmParameter: effective_{input,recurrent}_to_<gate>_scale_{a,b}
// and the zero-point-folded biases {input,recurrent}_to_<gate>_effective_bias.
struct LstmGateQuant {
    int32_t effective_input_scale_a = 0;
    int effective_input_scale_b = 0;
    int32_t effective_recurrent_scale_a = 0;
    int effective_recurrent_scale_b = 0;
    std::vector<int32_t> input_effective_bias;      // gate bias - input_zp * row sums
    std::vector<int32_t> recurrent_effective_bias;  // -output_state_zp * row sums
};

struct LstmIntegerParams {
    LstmGateQuant gates[4];  // input, forget, cell, output
    int32_t effective_hidden_scale_a = 0;
    int effective_hidden_scale_b = 0;
    int32_t hidden_zp = 0;
    int cell_scale = -11;             // log2 of the cell state scale (a power of two)
    int16_t quantized_cell_clip = 0;  // > 0: clip the cell state to +-this
    RequantRule rule = RequantRule::DoubleRounding;
};

struct LstmIntegerWeights {
    const int8_t* input_to[4] = {};      // [n_cell, n_input]; input_to[0] null under CIFG
    const int8_t* recurrent_to[4] = {};  // [n_cell, n_output]
};

// No peephole, layer norm or projection (the kernel rejects them in prepare). `scratch`
// holds 4 * n_cell int16 and `hidden` n_cell int8.
void lstmInteger8x8_16Reference(const LstmParams& p, const LstmShape& s, const LstmIntegerParams& q,
                                const LstmIntegerWeights& w, const int8_t* input,
                                int8_t* output_state, int16_t* cell_state, int8_t* output,
                                int16_t* scratch, int8_t* hidden);

// gemmlowp fixedpoint.h logistic / tanh on int16 FixedPoint<int16_t, integer_bits> raw
// values (result Q0.15), as portable_tensor_utils.cc PortableApplySigmoid (3 integer bits)
// and PortableApplyTanh use them. Exposed for tests.
int16_t gemmlowpLogistic16(int16_t raw, int integer_bits);
int16_t gemmlowpTanh16(int16_t raw, int integer_bits);

}  // namespace qs::engine::kernels
