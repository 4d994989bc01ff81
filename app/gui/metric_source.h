// Where per-tensor error metrics come from. The run controller asks a MetricSource for them;
// the error analysis of engine/analysis is one (analysis_metrics.h), and its own integer run
// stands for the controller's. Kept behind this small interface so the app's wiring does not
// depend on how metrics are computed.
#pragma once

#include <QString>
#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

#include "engine/analysis/error_analysis.h"
#include "engine/profiles/profile.h"
#include "engine/tensor_value.h"
#include "model/error.h"
#include "model/model.h"
#include "widgets/layers/layer_table_model.h"

namespace qs::app {

enum class ErrorMode { Accumulated, Local };

// Per-channel statistics of one op's weights (dequantized values).
struct WeightChannels {
    std::vector<double> min, max, absmax;
};

// The compared values of one tensor (first sample): what the tensor views draw.
struct TensorPair {
    engine::TensorValue quant;      // the integer engine's value
    engine::TensorValue reference;  // the float reference's value (float32)
};
using TensorValueStore = std::unordered_map<int, TensorPair>;

struct MetricTable {
    std::vector<widgets::MetricColumn> columns;
    // Tensor index -> one value per column (NaN = not available).
    std::unordered_map<int, std::vector<double>> byTensor;
    // Op index -> weight statistics, when the source computes them.
    std::unordered_map<int, WeightChannels> weights;
    std::vector<std::string> warnings;
    bool cancelled = false;
    // The full analysis behind the table, for File › Export Report (null for other sources).
    std::shared_ptr<const engine::analysis::ErrorAnalysis> analysis;
    // Tensor index -> compared values (null for other sources).
    std::shared_ptr<const TensorValueStore> values;
    bool empty() const { return byTensor.empty(); }
};

struct MetricRequest {
    const model::Model* quant = nullptr;
    const model::Model* floatModel = nullptr;  // optional paired float reference
    SubgraphId subgraph{0};
    std::vector<engine::TensorValue> inputs;  // sample 0, one value per subgraph input
    // A dataset: samples 1 .. sampleCount-1 come from `sample` (on the worker thread).
    int sampleCount = 1;
    std::function<Result<std::vector<engine::TensorValue>>(int index)> sample;
    engine::RoundingProfile profile = engine::RoundingProfile::Reference;
    ErrorMode mode = ErrorMode::Accumulated;
    // Optional: per-op progress of the integer engine's run of sample 0 (a source that runs
    // it: MetricTable::analysis->quantized_run then describes that run); false cancels.
    std::function<bool(int done, int total)> opProgress;
};

class MetricSource {
public:
    virtual ~MetricSource() = default;
    // Runs off the GUI thread; `progress` returning false cancels.
    virtual Result<MetricTable> compute(const MetricRequest& request,
                                        const std::function<bool(int, int)>& progress) = 0;
};

}  // namespace qs::app
