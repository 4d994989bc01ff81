// Element trace: the integer arithmetic behind one output element of a quantized op, step by
// step, under every rounding profile, from the op's actual input values in a run.
//
//   auto t = qs::engine::trace::traceElement(model, SubgraphId{0}, output_tensor, {0, 3, 5, 7},
//                                            run_result);
//   for (const auto& p : t->profiles) ... p.steps ... p.output
//
// Every profile is traced on the SAME inputs (those of the run given): the trace shows how each
// runtime would compute this element from these inputs, so where profiles part is a local
// rounding difference of this op, not one inherited from upstream. Each profile's `output`
// equals what the engine computes for that element under that profile when the op's inputs
// are those of the run (tests/engine/trace_test.cpp checks this on every conformance model).
//
// Supported: int8/uint8/int16 CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, ADD, SUB, MUL,
// MEAN, AVERAGE_POOL_2D (the integer paths of engine/kernels/). The parameters (multipliers,
// shifts, zero points, activation range) are derived here as each kernel's prepare derives
// them, with the same shared helpers (kernels/common.h, profiles/requantize.h).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/executor.h"
#include "engine/profiles/profile.h"
#include "engine/tensor_value.h"
#include "model/error.h"
#include "model/model.h"

namespace qs::engine::trace {

// A step's value: an integer (exact, int64 holds every int32/int64 intermediate), a real
// (float or double arithmetic), or text only (parameters shown as a formula).
struct StepValue {
    enum class Kind { Integer, Real, Text };
    Kind kind = Kind::Text;
    int64_t integer = 0;
    double real = 0.0;
    std::string text;  // parameter steps: "M = 1518500250, shift = -8"; else empty

    static StepValue ofInt(int64_t v) { return {Kind::Integer, v, 0.0, {}}; }
    static StepValue ofReal(double v) { return {Kind::Real, 0, v, {}}; }
    static StepValue ofText(std::string t) { return {Kind::Text, 0, 0.0, std::move(t)}; }
    bool operator==(const StepValue&) const = default;
    std::string toString() const;  // integers exactly, reals with enough digits to round-trip
};

struct TraceStep {
    // Stable id. Steps of different profiles with the same key hold the same quantity and are
    // compared to find where profiles part ("scaled" is the requantized value before the
    // output zero point, "with_zero_point", "clamped"; sub-steps are "<group>.high_mul", ...).
    std::string key;
    std::string label;    // what the step is, e.g. "SaturatingRoundingDoublingHighMul"
    std::string formula;  // how it is computed, with the rounding of ties named
    StepValue value;
    // Order of the comparison: the parting step is the comparable step with the smallest stage
    // whose value differs between two profiles that both have its key.
    int stage = 0;
    bool comparable = false;  // parameters and notes are shown, never compared
    bool parting = false;     // set on every profile's copy of the parting step
};

// One tap of the op's arithmetic: an input element (and, for conv-like ops, its weight).
struct TraceTerm {
    int input = 0;                     // which op input the element comes from (0, 1)
    std::vector<int32_t> input_coord;  // coordinate in that input tensor
    int64_t input_q = 0;               // stored integer
    int64_t input_centered = 0;        // with the zero point removed (what the kernel uses)
    double input_real = 0.0;           // dequantized: scale * (q - zp)
    bool has_weight = false;
    std::vector<int32_t> weight_coord;  // coordinate in the filter tensor
    int64_t weight_q = 0;
    int64_t weight_centered = 0;
    double weight_real = 0.0;
    int64_t product = 0;  // input_centered * weight_centered (conv-like ops and MUL)
};

struct ProfileTrace {
    RoundingProfile profile = RoundingProfile::Reference;
    std::string rule;      // "double-rounding", "single-rounding", "ruy-x86", "xnnpack-fp32", ...
    std::string upstream;  // the runtime source whose arithmetic is followed
    std::vector<TraceStep> steps;
    int32_t output = 0;        // the final integer (what the engine writes)
    double output_real = 0.0;  // output dequantized with the output scale and zero point
};

struct Parting {
    std::string key;    // the parting step's key
    std::string label;  // its label in the first profile that has it
    int stage = 0;
    std::vector<RoundingProfile> profiles;  // the profiles that have the key
};

struct ElementTrace {
    OpId op;
    std::string op_name;  // "CONV_2D"
    TensorId output;
    std::string output_name;
    model::DType dtype = model::DType::Int8;  // activation type
    std::vector<int32_t> element;             // coordinate in the output tensor
    int64_t flat_index = 0;
    std::vector<TensorId> inputs;  // the op's input tensors (input, filter, bias / a, b)

    std::vector<TraceTerm> terms;   // window, broadcast inputs or reduced elements, in order
    int skipped_taps = 0;           // conv window taps outside the image (padding), not summed
    std::vector<TraceStep> common;  // steps every profile shares (accumulator, bias, ...)
    std::vector<ProfileTrace> profiles;

    // The float computation for comparison: dequantized inputs (and weights, bias) in double,
    // the fused activation applied; and where it lands on the output grid before rounding.
    double float_value = 0.0;
    double float_ideal_q = 0.0;  // float_value / s_out + zp_out

    std::optional<int64_t> run_output;  // the element's value in the run that was given
    std::optional<Parting> parting;     // nullopt when every profile gives the same steps
    // Whether the profiles' final integers differ (profiles can part at an intermediate step,
    // e.g. an ADD input rescale, and still agree on the output).
    bool outputs_differ = false;
    std::vector<std::string> notes;  // e.g. "XNNPACK does not take this ADD: builtin"

    const ProfileTrace* profile(RoundingProfile p) const;
};

// Looks a tensor's value up in a run (null when the run did not compute or keep it).
using TensorLookup = std::function<const TensorValue*(TensorId)>;

// The op that writes `output` must be one of the supported ops with an integer activation
// type; `element` must be inside the output's runtime shape (as given by the run's value, or
// the model's shape). Errors name the tensor and op.
Result<ElementTrace> traceElement(const model::Model& model, SubgraphId subgraph, TensorId output,
                                  std::span<const int32_t> element, const TensorLookup& values,
                                  std::span<const RoundingProfile> profiles = kAllProfiles);
Result<ElementTrace> traceElement(const model::Model& model, SubgraphId subgraph, TensorId output,
                                  std::span<const int32_t> element, const RunResult& run,
                                  std::span<const RoundingProfile> profiles = kAllProfiles);

// Whether traceElement can trace elements of `output` (for enabling a click in the GUI);
// the error says why not.
Result<void> traceSupported(const model::Model& model, SubgraphId subgraph, TensorId output);

// Readable text: the terms (at most `max_terms`, then a count), the common steps, then each
// profile's steps in aligned columns; the parting step is marked with "<== profiles part".
std::string formatTrace(const ElementTrace& trace, size_t max_terms = 32);

// JSON (indent < 0: one line): everything above, every term, one object per profile with its
// steps and final `output`, `parting` (null when the profiles agree) and notes.
std::string traceJson(const ElementTrace& trace, int indent = 2);

}  // namespace qs::engine::trace
