// The tensor views' data of one tensor after a run: its compared values turned into maps,
// histograms and density by engine/analysis/tensor_views.h, its per-channel metrics and the
// producing op's weight parameters, as the widgets' plain value type.
#pragma once

#include <QString>
#include <memory>
#include <vector>

#include "engine/tensor_value.h"
#include "model/error.h"
#include "model/model.h"
#include "widgets/plots/tensor_plot_data.h"

namespace qs::engine::analysis {
struct TensorPlanes;
}

namespace qs::app {

struct RunOutcome;

// The planes of the tensors shown last. tensorPlotData() refills the buffers of one that no
// view holds any more instead of allocating fresh ones: for a 1 M element tensor that is
// 20 MB of new pages, and faulting them in cost more than filling them.
class PlanesPool {
public:
    // Planes no view holds (moved out of the pool), or empty ones.
    engine::analysis::TensorPlanes takeFree();
    // `planes` now shown; the pool keeps the last two.
    void keep(std::shared_ptr<engine::analysis::TensorPlanes> planes);
    size_t size() const { return m_kept.size(); }

private:
    std::vector<std::shared_ptr<engine::analysis::TensorPlanes>> m_kept;
};

// The maps, histograms and density of one tensor's values `quant` (stored with the tensor's
// quantization) against `reference` (float32, same shape); no per-channel metrics.
Result<std::shared_ptr<widgets::TensorPlotData>> comparedPlotData(
    const model::Tensor& info, int tensor, const engine::TensorValue& quant,
    const engine::TensorValue& reference, PlanesPool* pool = nullptr);

// `tensor` of subgraph `subgraph` (`op`: its producer, -1 for a graph input); `metric` is the
// display name of the colour metric (the per-channel bars show it). Fails with a one-line
// reason when the run has no compared values for it. `pool`: buffers to reuse (optional).
Result<std::shared_ptr<widgets::TensorPlotData>> tensorPlotData(const model::Model& model,
                                                                int subgraph, int tensor, int op,
                                                                const RunOutcome& outcome,
                                                                const QString& metric,
                                                                PlanesPool* pool = nullptr);

// The compared tensor with the worst value of `metric` (display name), or -1.
int worstTensor(const RunOutcome& outcome, const QString& metric);

}  // namespace qs::app
