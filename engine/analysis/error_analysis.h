// Per-tensor quantization error of a model against a float reference, over one or more
// input samples.
//
//   ErrorAnalysis a = ...;  // see analyze()
//
// Reference: the float twin of the quantized model (float_twin.h), or a float model paired
// with it tensor by tensor (pairing.h).
// Modes:
//   Accumulated  the quantized engine and the reference each run from the same sample; every
//                paired tensor is compared: the error built up from the input to there.
//   Local        the quantized engine runs; then the reference runs with every paired tensor
//                replaced, as soon as it is produced, by the dequantized value of its
//                quantized partner (RunOptions::override_value). Each reference op therefore
//                sees exactly the inputs its quantized counterpart saw, and the value it
//                computes (compared before the replacement) differs from the quantized
//                output by the error that op adds by itself. Graph inputs are compared the
//                same way (the input quantization error).
// Samples give one value per quantized-model input, float32 or the input's own dtype; each
// engine gets it adapted to its input (float data quantized for the integer model; integer
// data dequantized for the float reference).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "engine/analysis/metrics.h"
#include "engine/analysis/pairing.h"
#include "engine/profiles/profile.h"
#include "engine/tensor_value.h"
#include "model/error.h"
#include "model/model.h"

namespace qs::engine::analysis {

enum class ErrorMode { Accumulated, Local };
std::string_view errorModeName(ErrorMode m);  // "accumulated", "local"

struct AnalysisOptions {
    ErrorMode mode = ErrorMode::Accumulated;
    RoundingProfile profile = RoundingProfile::Reference;  // of the quantized engine
    bool plain = false;
    // Called after each sample with (samples done, total); return false to cancel.
    std::function<bool(int done, int total)> progress;
    // Optional: called after each op of sample 0's quantized run with (ops done, ops total),
    // from the thread running it; return false to cancel (the analysis then ends with no
    // sample and `cancelled`). With ErrorAnalysis::quantized_run it spares a caller that shows
    // per-op progress a run of its own.
    std::function<bool(int done, int total)> op_progress;
    // 2 (default): the quantized graph's preparation and the weight statistics run beside the
    // float twin's construction and preparation, then both engines run at once, each tensor
    // compared as soon as both of its values exist, and the per-channel metrics are finished
    // on both threads; the results are identical to 1 (everything in turn on the caller's
    // thread). Models with variable tensors or a tensor written by more than one op run their
    // engines one after the other. On a 2-core machine (BM_AnalysisVsIntEngine, mobilenet_v2,
    // accumulated) two threads take 1.5-1.9x the int8 engine alone against 3.0x for one, for
    // about 75 MB more peak memory; under load they gain little.
    int threads = 2;
    // Optional: sees each compared pair as it is compared (quantized tensor id, the quantized
    // engine's value, the reference value), so a viewer can keep the values it draws. With
    // threads > 1 it may be called from either thread (never two calls at once) and the
    // tensors of a sample may come in another order.
    std::function<void(int sample, TensorId tensor, const TensorValue& quant,
                       const TensorValue& reference)>
        observe;
    // Accumulated mode: sample 0's values of both runs are moved into
    // ErrorAnalysis::sample0_quant / sample0_reference instead of being dropped, so a viewer
    // keeps them without the copy `observe` makes. (In local mode the reference's values are the
    // replacements, not the compared ones: use `observe`.)
    bool keep_sample0 = false;
};

// Metrics of one quantized tensor against its reference.
struct TensorErrors {
    TensorId tensor;            // in the quantized model
    TensorId reference_tensor;  // in the reference model
    PairMethod pairing = PairMethod::None;
    OpId producer;  // invalid for graph inputs
    int channel_axis = -1;
    int samples = 0;
    ErrorMetrics averaged, pooled;
    std::vector<ErrorMetrics> channels_averaged, channels_pooled;
};

// Per output channel of one weight or bias tensor.
struct ChannelWeightStats {
    double min = kNaN, max = kNaN, absmax = kNaN;  // dequantized values
    double scale = kNaN;
    int64_t zero_point = 0;
    int64_t q_min = 0, q_max = 0;  // stored integers
    // Bias only: expected scale input_scale * weight_scale[c] and the relative difference.
    double expected_scale = kNaN, scale_rel_diff = kNaN;
};

struct WeightReport {
    OpId op;
    TensorId tensor;
    std::string role;  // "weights" or "bias"
    int channel_axis = -1;
    std::vector<ChannelWeightStats> channels;
    // Against the paired float model's tensor (when there is one).
    TensorId float_tensor;
    bool transposed = false;  // the float tensor is the 2-D transpose (FC vs BATCH_MATMUL)
    std::optional<ErrorMetrics> error;
    std::vector<ErrorMetrics> channel_errors;
    // Bias only: the largest relative difference over channels (NaN if not checkable).
    double bias_scale_max_rel_diff = kNaN;
};

// How the quantized engine's run of sample 0 went.
struct QuantizedRun {
    int ops_total = 0;
    int ops_run = 0;
    std::optional<OpId> stopped_at;     // the op it could not run (RunResult::stopped_at)
    std::vector<std::string> warnings;  // RunResult::warnings
    std::vector<char> produced;         // per tensor of the main subgraph: has a value
};

struct ErrorAnalysis {
    ErrorMode mode = ErrorMode::Accumulated;
    RoundingProfile profile = RoundingProfile::Reference;
    bool paired_float_model = false;
    int samples = 0;
    TensorPairing pairing;
    std::vector<TensorErrors> tensors;  // graph inputs first, then op outputs in execution order
    std::vector<WeightReport> weights;
    std::vector<std::string> warnings;
    bool cancelled = false;
    QuantizedRun quantized_run;
    // AnalysisOptions::keep_sample0: every value of sample 0's runs, indexed by tensor of the
    // quantized model and of the reference (TensorErrors::reference_tensor); invalid where a
    // run produced none.
    std::vector<TensorValue> sample0_quant, sample0_reference;
};

using SampleSource = std::function<Result<std::vector<TensorValue>>(int index)>;

// `float_model` null: the reference is the quantized model's float twin. `source(i)` gives
// sample i of `sample_count` (at least 1).
Result<ErrorAnalysis> analyze(const model::Model& quant, const model::Model* float_model,
                              int sample_count, const SampleSource& source,
                              const AnalysisOptions& options);

// Weight/bias statistics of every op with constant quantized weights (and the error against
// `float_model`'s paired tensors, when given).
std::vector<WeightReport> weightReports(const model::Model& quant, const model::Model* float_model,
                                        const TensorPairing& pairing);

}  // namespace qs::engine::analysis
