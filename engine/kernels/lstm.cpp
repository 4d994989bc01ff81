// UNIDIRECTIONAL_SEQUENCE_LSTM kernels (see lstm.h). The float step keeps lstm_eval.cc's
// order of operations per gate: start from the bias (0 with layer norm), add each weight
// matrix's dot product (each summed on its own first, as portable
// MatrixBatchVectorMultiplyAccumulate does), then the peephole term, layer norm, activation.
#include "engine/kernels/lstm.h"

#include <algorithm>
#include <cmath>

#include "model/str_format.h"

namespace qs::engine::kernels {

namespace {

using model::Activation;

// portable_tensor_utils.cc PortableMatrixBatchVectorMultiplyAccumulate (one batch row).
void matVecAccumulate(const float* m, int32_t rows, int32_t cols, const float* v, float* result) {
    for (int32_t r = 0; r < rows; ++r) {
        const float* row = m + int64_t{r} * cols;
        float dot = 0.0f;
        for (int32_t c = 0; c < cols; ++c) dot += row[c] * v[c];
        result[r] += dot;
    }
}

// tensor_utils::ApplyActivationToVector. LSTM uses it with the op's fused activation for the
// cell gate and the cell output; sigmoid for the other gates.
float activate(Activation a, float x) {
    switch (a) {
        case Activation::None:
            return x;
        case Activation::Relu:
            return std::max(0.0f, x);
        case Activation::ReluN1To1:
            return std::clamp(x, -1.0f, 1.0f);
        case Activation::Relu6:
            return std::clamp(x, 0.0f, 6.0f);
        case Activation::Tanh:
            return std::tanh(x);
        case Activation::SignBit:
            return std::signbit(x) ? 1.0f : 0.0f;
    }
    return x;
}

float sigmoid(float x) {
    return 1.0f / (1.0f + std::exp(-x));
}

// portable_tensor_utils.cc PortableMeanStddevNormalization: two passes (mean, then the mean
// squared difference), 1 / sqrt(variance + 1e-8).
void meanStddevNormalize(float* v, int32_t n) {
    float sum = 0.0f;
    for (int32_t i = 0; i < n; ++i) sum += v[i];
    const float mean = sum / static_cast<float>(n);
    float sum_diff_sq = 0.0f;
    for (int32_t i = 0; i < n; ++i) {
        const float d = v[i] - mean;
        sum_diff_sq += d * d;
    }
    const float variance = sum_diff_sq / static_cast<float>(n);
    const float stddev_inv = 1.0f / std::sqrt(variance + 1e-8f);
    for (int32_t i = 0; i < n; ++i) v[i] = (v[i] - mean) * stddev_inv;
}

// lstm_eval.cc CalculateLstmGateFloat for one batch row (no auxiliary input: the
// unidirectional op has none).
void gateFloat(const LstmParams& p, const LstmShape& s, const float* x, const float* w_in,
               const float* h, const float* w_rec, const float* c, const float* w_peep,
               const float* ln, const float* bias, bool sigmoid_gate, float* gate) {
    if (ln)
        std::fill_n(gate, s.n_cell, 0.0f);
    else
        std::copy_n(bias, s.n_cell, gate);
    matVecAccumulate(w_in, s.n_cell, s.n_input, x, gate);
    if (p.diagonal_recurrent_tensors) {
        for (int32_t i = 0; i < s.n_cell; ++i) gate[i] += w_rec[i] * h[i];
    } else {
        matVecAccumulate(w_rec, s.n_cell, s.n_output, h, gate);
    }
    if (w_peep)
        for (int32_t i = 0; i < s.n_cell; ++i) gate[i] += w_peep[i] * c[i];
    if (ln) {
        meanStddevNormalize(gate, s.n_cell);
        for (int32_t i = 0; i < s.n_cell; ++i) gate[i] = gate[i] * ln[i] + bias[i];
    }
    for (int32_t i = 0; i < s.n_cell; ++i)
        gate[i] = sigmoid_gate ? sigmoid(gate[i]) : activate(p.activation, gate[i]);
}

// lstm_eval.cc LstmStepFloat for one batch row: h and c are updated in place, the new h is
// also written to `out`.
void stepFloat(const LstmParams& p, const LstmShape& s, const LstmFloatWeights& w, const float* x,
               float* h, float* c, float* out, float* scratch) {
    const int32_t n = s.n_cell;
    float* input_gate = scratch;
    float* forget_gate = scratch + n;
    float* cell_gate = scratch + 2 * int64_t{n};
    float* output_gate = scratch + 3 * int64_t{n};
    const bool cifg = w.input_to_input == nullptr;
    if (!cifg)
        gateFloat(p, s, x, w.input_to_input, h, w.recurrent_to_input, c, w.cell_to_input,
                  w.input_layer_norm, w.input_gate_bias, true, input_gate);
    gateFloat(p, s, x, w.input_to_forget, h, w.recurrent_to_forget, c, w.cell_to_forget,
              w.forget_layer_norm, w.forget_gate_bias, true, forget_gate);
    gateFloat(p, s, x, w.input_to_cell, h, w.recurrent_to_cell, c, nullptr, w.cell_layer_norm,
              w.cell_gate_bias, false, cell_gate);
    // UpdateLstmCellFloat: c = c * f, then += g * i (CIFG: i = 1 - f), then the clip.
    for (int32_t i = 0; i < n; ++i) {
        c[i] = forget_gate[i] * c[i];
        const float in_gate = cifg ? 1.0f - forget_gate[i] : input_gate[i];
        c[i] += cell_gate[i] * in_gate;
        if (p.cell_clip > 0.0f) c[i] = std::clamp(c[i], -p.cell_clip, p.cell_clip);
    }
    // The output gate's peephole sees the updated cell state (LstmStepFloat computes this
    // gate after UpdateLstmCellFloat).
    gateFloat(p, s, x, w.input_to_output, h, w.recurrent_to_output, c, w.cell_to_output,
              w.output_layer_norm, w.output_gate_bias, true, output_gate);
    // CalculateLstmOutputFloat: o * act(c), then the optional projection (bias first, one
    // dot product per output, clip).
    float* hidden = cell_gate;  // the cell gate is no longer needed
    for (int32_t i = 0; i < n; ++i) hidden[i] = output_gate[i] * activate(p.activation, c[i]);
    if (w.projection_weights) {
        if (w.projection_bias)
            std::copy_n(w.projection_bias, s.n_output, h);
        else
            std::fill_n(h, s.n_output, 0.0f);
        matVecAccumulate(w.projection_weights, s.n_output, n, hidden, h);
        if (p.proj_clip > 0.0f)
            for (int32_t i = 0; i < s.n_output; ++i)
                h[i] = std::clamp(h[i], -p.proj_clip, p.proj_clip);
    } else {
        std::copy_n(hidden, s.n_output, h);
    }
    std::copy_n(h, s.n_output, out);
}

}  // namespace

void lstmFloatReference(const LstmParams& p, const LstmShape& s, const LstmFloatWeights& w,
                        const float* input, float* output_state, float* cell_state, float* output,
                        float* scratch) {
    // unidirectional_sequence_lstm.cc: time-major input runs all batches per step; batch-major
    // input runs each batch's sequence on its own (n_batch = 1). Every operation is per batch
    // row, so both orders give the same numbers; only the indexing differs.
    for (int32_t b = 0; b < s.n_batch; ++b) {
        float* h = output_state + int64_t{b} * s.n_output;
        float* c = cell_state + int64_t{b} * s.n_cell;
        for (int32_t t = 0; t < s.max_time; ++t) {
            const int64_t row =
                p.time_major ? int64_t{t} * s.n_batch + b : int64_t{b} * s.max_time + t;
            stepFloat(p, s, w, input + row * s.n_input, h, c, output + row * s.n_output, scratch);
        }
    }
}

namespace {

using model::DType;

// Input indexes (tensorflow/lite/kernels/lstm_shared.h).
enum LstmInput : int {
    kInput = 0,
    kInputToInput = 1,
    kInputToForget = 2,
    kInputToCell = 3,
    kInputToOutput = 4,
    kRecurrentToInput = 5,
    kRecurrentToForget = 6,
    kRecurrentToCell = 7,
    kRecurrentToOutput = 8,
    kCellToInput = 9,
    kCellToForget = 10,
    kCellToOutput = 11,
    kInputGateBias = 12,
    kForgetGateBias = 13,
    kCellGateBias = 14,
    kOutputGateBias = 15,
    kProjectionWeights = 16,
    kProjectionBias = 17,
    kOutputState = 18,
    kCellState = 19,
    kInputLayerNorm = 20,
    kForgetLayerNorm = 21,
    kCellLayerNorm = 22,
    kOutputLayerNorm = 23,
    kNumLstmInputs = 24,
};

class UnidirectionalSequenceLstmKernel final : public Kernel {
public:
    Result<void> prepare(PrepareContext& ctx) override {
        const auto* o = ctx.options<model::UnidirectionalSequenceLSTMOptions>();
        if (!o) return ctx.fail("missing UnidirectionalSequenceLSTMOptions");
        if (ctx.numOutputs() < 1) return ctx.fail("needs an output");
        const TensorInfo* input = ctx.input(kInput);
        const TensorInfo* out_state = ctx.input(kOutputState);
        const TensorInfo* cell_state = ctx.input(kCellState);
        if (!input || !out_state || !cell_state)
            return ctx.fail("needs the input, output_state (18) and cell_state (19)");
        for (int i :
             {kInputToForget, kInputToCell, kInputToOutput, kRecurrentToForget, kRecurrentToCell,
              kRecurrentToOutput, kForgetGateBias, kCellGateBias, kOutputGateBias})
            if (!ctx.input(i)) return ctx.fail(strFormat("input {} is required", i));
        m_params.activation = o->fused_activation_function;
        m_params.cell_clip = o->cell_clip;
        m_params.proj_clip = o->proj_clip;
        m_params.time_major = o->time_major;
        m_params.diagonal_recurrent_tensors = o->diagonal_recurrent_tensors;
        // unidirectional_sequence_lstm.cc CheckInputTensorDimensions.
        if (o->cell_clip < 0.0f || o->proj_clip < 0.0f)
            return ctx.fail("cell_clip and proj_clip must be >= 0");
        if (input->rank() != 3) return ctx.fail("the input must be 3-D");
        auto& s = m_shape;
        s.max_time = o->time_major ? input->dim(0) : input->dim(1);
        s.n_batch = o->time_major ? input->dim(1) : input->dim(0);
        s.n_input = input->dim(2);
        const TensorInfo* i2o = ctx.input(kInputToOutput);
        const TensorInfo* r2o = ctx.input(kRecurrentToOutput);
        if (i2o->rank() != 2) return ctx.fail("input_to_output_weights must be 2-D");
        s.n_cell = i2o->dim(0);
        if (o->diagonal_recurrent_tensors) {
            if (r2o->rank() != 1) return ctx.fail("diagonal recurrent weights must be 1-D");
            s.n_output = s.n_cell;
        } else {
            if (r2o->rank() != 2) return ctx.fail("recurrent_to_output_weights must be 2-D");
            s.n_output = r2o->dim(1);
        }
        auto expect = [&](int i, std::vector<int32_t> shape) -> Result<void> {
            const TensorInfo* t = ctx.input(i);
            if (t && t->shape != shape)
                return ctx.fail(strFormat("input {} ({}) is [{}], expected [{}]", i, t->name,
                                          shapeString(t->shape), shapeString(shape)));
            return {};
        };
        const std::vector<int32_t> in_w{s.n_cell, s.n_input};
        const std::vector<int32_t> rec_w = o->diagonal_recurrent_tensors
                                               ? std::vector<int32_t>{s.n_cell}
                                               : std::vector<int32_t>{s.n_cell, s.n_output};
        const std::vector<int32_t> vec{s.n_cell};
        const std::pair<int, std::vector<int32_t>> shapes[] = {
            {kInputToInput, in_w},
            {kInputToForget, in_w},
            {kInputToCell, in_w},
            {kInputToOutput, in_w},
            {kRecurrentToInput, rec_w},
            {kRecurrentToForget, rec_w},
            {kRecurrentToCell, rec_w},
            {kRecurrentToOutput, rec_w},
            {kCellToInput, vec},
            {kCellToForget, vec},
            {kCellToOutput, vec},
            {kInputGateBias, vec},
            {kForgetGateBias, vec},
            {kCellGateBias, vec},
            {kOutputGateBias, vec},
            {kProjectionWeights, {s.n_output, s.n_cell}},
            {kProjectionBias, {s.n_output}},
            {kOutputState, {s.n_batch, s.n_output}},
            {kCellState, {s.n_batch, s.n_cell}},
            {kInputLayerNorm, vec},
            {kForgetLayerNorm, vec},
            {kCellLayerNorm, vec},
            {kOutputLayerNorm, vec},
        };
        for (const auto& [i, shape] : shapes)
            if (auto r = expect(i, shape); !r) return r;
        auto present = [&](int i) { return ctx.input(i) != nullptr; };
        // CIFG: the input gate's weights come together or not at all, and its bias with them.
        const bool cifg = !present(kInputToInput);
        if (present(kInputToInput) != present(kRecurrentToInput))
            return ctx.fail("input_to_input and recurrent_to_input weights must both be given");
        if (cifg == present(kInputGateBias))
            return ctx.fail(cifg ? "a CIFG LSTM takes no input gate bias"
                                 : "input_gate_bias is required without CIFG");
        // Peephole: all or none (cell_to_input may be absent under CIFG).
        const bool peep_any =
            present(kCellToInput) || present(kCellToForget) || present(kCellToOutput);
        const bool peep_all =
            (present(kCellToInput) || cifg) && present(kCellToForget) && present(kCellToOutput);
        if (peep_any && !peep_all) return ctx.fail("peephole weights must be all or none");
        if (cifg && present(kCellToInput))
            return ctx.fail("a CIFG LSTM takes no cell_to_input weights");
        if (present(kProjectionBias) && !present(kProjectionWeights))
            return ctx.fail("projection_bias needs projection_weights");
        if (!present(kProjectionWeights) && s.n_output != s.n_cell)
            return ctx.fail(strFormat("without projection n_output ({}) must equal n_cell ({})",
                                      s.n_output, s.n_cell));
        // Layer norm: forget/cell/output together, input with them unless CIFG.
        const bool ln = present(kForgetLayerNorm);
        if (present(kCellLayerNorm) != ln || present(kOutputLayerNorm) != ln ||
            (!cifg && present(kInputLayerNorm) != ln) || (cifg && present(kInputLayerNorm)))
            return ctx.fail("layer norm coefficients must be all or none");
        // TFLM: "Since is_variable is not part of TFLiteEvalTensor, check is_variable here."
        if (!out_state->isVariable() || !cell_state->isVariable())
            return ctx.fail("output_state (18) and cell_state (19) must be variable tensors");

        for (int i = 0; i < std::min(ctx.numInputs(), int{kNumLstmInputs}); ++i) {
            const TensorInfo* t = ctx.input(i);
            if (t && t->dtype != DType::Float32)
                return ctx.fail(strFormat(
                    "input {} ({}) is {}: only the float32 LSTM is supported (integer and "
                    "hybrid LSTMs are not yet)",
                    i, t->name, model::dtypeName(t->dtype)));
        }
        TensorInfo& output = ctx.output(0);
        if (output.dtype != DType::Float32) return ctx.fail("the output must be float32");
        output.shape = o->time_major ? std::vector<int32_t>{s.max_time, s.n_batch, s.n_output}
                                     : std::vector<int32_t>{s.n_batch, s.max_time, s.n_output};
        m_scratch.assign(4 * static_cast<size_t>(s.n_cell), 0.0f);
        return {};
    }

    void eval(EvalContext& ctx) override {
        TensorValue* out_state = ctx.variable(kOutputState);
        TensorValue* cell_state = ctx.variable(kCellState);
        if (!out_state || !cell_state)
            return ctx.fail("the state tensors are not writable (not run by the executor)");
        auto ptr = [&](int i) -> const float* {
            return ctx.hasInput(i) ? in<float>(ctx.input(i)) : nullptr;
        };
        LstmFloatWeights w;
        w.input_to_input = ptr(kInputToInput);
        w.input_to_forget = ptr(kInputToForget);
        w.input_to_cell = ptr(kInputToCell);
        w.input_to_output = ptr(kInputToOutput);
        w.recurrent_to_input = ptr(kRecurrentToInput);
        w.recurrent_to_forget = ptr(kRecurrentToForget);
        w.recurrent_to_cell = ptr(kRecurrentToCell);
        w.recurrent_to_output = ptr(kRecurrentToOutput);
        w.cell_to_input = ptr(kCellToInput);
        w.cell_to_forget = ptr(kCellToForget);
        w.cell_to_output = ptr(kCellToOutput);
        w.input_gate_bias = ptr(kInputGateBias);
        w.forget_gate_bias = ptr(kForgetGateBias);
        w.cell_gate_bias = ptr(kCellGateBias);
        w.output_gate_bias = ptr(kOutputGateBias);
        w.projection_weights = ptr(kProjectionWeights);
        w.projection_bias = ptr(kProjectionBias);
        w.input_layer_norm = ptr(kInputLayerNorm);
        w.forget_layer_norm = ptr(kForgetLayerNorm);
        w.cell_layer_norm = ptr(kCellLayerNorm);
        w.output_layer_norm = ptr(kOutputLayerNorm);
        lstmFloatReference(m_params, m_shape, w, in<float>(ctx.input(kInput)),
                           out<float>(*out_state), out<float>(*cell_state),
                           out<float>(ctx.output(0)), m_scratch.data());
    }

private:
    LstmParams m_params;
    LstmShape m_shape;
    std::vector<float> m_scratch;
};

}  // namespace

}  // namespace qs::engine::kernels

namespace qs::engine {
void registerKernels_lstm(KernelRegistry& r) {
    r.add(model::BuiltinOp::UNIDIRECTIONAL_SEQUENCE_LSTM,
          &makeKernel<kernels::UnidirectionalSequenceLstmKernel>);
}
}  // namespace qs::engine
