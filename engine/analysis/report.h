// Report files of an ErrorAnalysis: CSV (QuantizationDebugger's columns first), per-channel
// CSV, JSON with everything, and Google Model Explorer node data. Each function returns the
// file contents; writeReportFile() writes them atomically (engine/io/npy.h writeFileAtomic).
//
// CSV columns (tensor CSV), one row per compared tensor in execution order:
//   op_name, tensor_idx, num_elements, stddev, mean_error, max_abs_error, mean_squared_error,
//   scale, zero_point, tensor_name        -- QuantizationDebugger's layer_statistics_dump
//                                            order; metrics averaged over samples as it does;
//                                            scale/zero_point are the first (per-channel: of
//                                            channel 0) as it reports them
//   op_index, dtype, shape, quantized_dimension, channel_axis, reference_tensor_idx,
//   reference_tensor_name, pairing, samples,
//   rmse ... out_of_range_pct            -- our metrics, averaged over samples
//   pooled_num_elements ... pooled_out_of_range_pct
//                                         -- every metric over all samples pooled
// Graph inputs have op_name "INPUT" and op_index -1. Numbers use the shortest text that reads
// back to the same double; NaN is "nan", infinities "inf"/"-inf" (pandas reads all three);
// a float tensor's scale and zero_point are empty.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "engine/analysis/error_analysis.h"
#include "model/error.h"
#include "model/model.h"

namespace qs::engine::analysis {

// The names of the tensor CSV's columns, in order.
std::vector<std::string> csvColumns();
std::vector<std::string> perChannelCsvColumns();

struct ReportContext {
    const model::Model* quant = nullptr;
    const model::Model* float_model = nullptr;  // null: the float twin was the reference
    std::string model_path, float_model_path;
    std::vector<std::string> sample_names;
};

std::string csvReport(const ErrorAnalysis& a, const ReportContext& ctx);
std::string perChannelCsvReport(const ErrorAnalysis& a, const ReportContext& ctx);
std::string jsonReport(const ErrorAnalysis& a, const ReportContext& ctx);
// {graphId: {results: {key: {value}}, gradient: [...]}}: keys are op indices (Model
// Explorer's node ids for .tflite ops) and, for graph inputs, tensor names. `metric` is a
// kMetrics name; `pooled` picks the pooled aggregate instead of the averaged one.
// Non-finite values are left out (Model Explorer takes numbers only).
Result<std::string> modelExplorerReport(const ErrorAnalysis& a, const ReportContext& ctx,
                                        std::string_view metric, bool pooled);

Result<void> writeReportFile(const std::filesystem::path& path, const std::string& contents);

// Shortest round-trip text of a double; "nan", "inf", "-inf" for the others.
std::string formatNumber(double v);

}  // namespace qs::engine::analysis
