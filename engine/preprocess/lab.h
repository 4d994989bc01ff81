// The numbers behind the preprocessing lab (the GUI's side-by-side pipelines): per-channel
// statistics of a preprocessed image, the difference between two pipelines' results, and one
// pipeline's effect on the model (top-k classes of its output, accumulated quantization error
// summarised from engine/analysis). The GUI only draws what these return.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "engine/analysis/error_analysis.h"
#include "engine/preprocess/pipeline.h"
#include "engine/profiles/profile.h"
#include "model/error.h"
#include "model/model.h"

namespace qs::engine::preprocess {

struct PlaneStats {
    double min = 0, max = 0, mean = 0, std = 0;  // std: population (divides by n)
};
// Per channel.
std::vector<PlaneStats> planeStats(const FloatImage& image);

// The normalized values of a preprocessing result ([1, H, W, C] float32) as an image.
FloatImage normalizedImage(const PreprocessResult& r);

// The range pixels 0..255 span after a resolved pipeline's normalization (the largest over
// channels): the peak for PSNR in normalized units. 255 for raw pixels.
Result<double> normalizedPeak(const Pipeline& resolved, int32_t channels);

struct ImageDifference {
    int32_t width = 0, height = 0, channels = 0;
    // Per pixel (row-major): max over channels of |a - b|.
    std::vector<float> abs_max;
    double max_abs = 0;   // max |a - b| over every element
    double mean_abs = 0;  // mean |a - b| over every element
    double rmse = 0;
    double peak = 0;
    double psnr_db = 0;  // 10 log10(peak^2 / MSE); +inf when the images are equal
    std::vector<double> channel_max_abs;
};
// a - b element-wise; the images must have the same size and channel count.
Result<ImageDifference> difference(const FloatImage& a, const FloatImage& b, double peak);

struct ScoredClass {
    int32_t index = 0;
    float score = 0;  // the output value (dequantized)
};
// The k largest values of an output (quantized outputs dequantized with `q`), largest first;
// ties keep the lower index first. Errors for outputs that are not float32/int8/uint8/int16.
Result<std::vector<ScoredClass>> topK(const TensorValue& output, const model::Quantization& q,
                                      int k);

// Accumulated quantization error at a glance.
struct ErrorSummary {
    double output_sqnr_db = analysis::kNaN;   // of the first graph output
    double output_rmse_lsb = analysis::kNaN;  // of the first graph output
    double mean_rmse_lsb = analysis::kNaN;    // over compared tensors that have a scale
    int32_t worst_tensor = -1;                // lowest SQNR among op outputs
    double worst_sqnr_db = analysis::kNaN;
    int32_t tensors = 0;  // compared tensors
};
ErrorSummary summarizeErrors(const analysis::ErrorAnalysis& a, const model::Model& m);

struct LabOptions {
    int top_k = 5;
    RoundingProfile profile = RoundingProfile::Reference;
    analysis::ErrorMode mode = analysis::ErrorMode::Accumulated;
    bool analyze = true;  // also run the error analysis (float twin or `float_model`)
    const model::Model* float_model = nullptr;
    // (steps done, total); returns false to cancel. Steps: the integer run's ops, then one
    // step per op for the analysis (reported when it ends).
    std::function<bool(int done, int total)> progress;
};

struct LabEvaluation {
    PreprocessResult pre;
    std::vector<PlaneStats> stats;  // of the normalized values
    std::vector<ScoredClass> top;   // of the model's first output
    int32_t output_classes = 0;
    std::optional<ErrorSummary> errors;
    std::string analysis_error;  // why `errors` is missing (one line), when it is
    bool cancelled = false;
};

// Preprocesses `image` with `p` for input 0 of `m`, runs the model on it and (optionally)
// the error analysis. Errors: the pipeline or the run failed.
Result<LabEvaluation> evaluatePipeline(const Image& image, const Pipeline& p, const model::Model& m,
                                       const LabOptions& options);

}  // namespace qs::engine::preprocess
