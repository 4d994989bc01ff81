// The element trace panel's and the profile difference view's data, from engine/trace:
// an ElementTrace as the widgets' steps table (one row per step key, one column per profile),
// a profile comparison as the per-layer table, and one tensor's difference as a heatmap.
#pragma once

#include <QString>
#include <memory>

#include "engine/trace/element_trace.h"
#include "engine/trace/profile_diff.h"
#include "model/error.h"
#include "model/model.h"
#include "widgets/plots/tensor_plot_data.h"
#include "widgets/trace/trace_view_data.h"

namespace qs::app {

QString profileDisplayName(engine::RoundingProfile p);

// `source`: where the op's inputs came from (one line, shown above the tables).
widgets::TraceViewData traceViewData(const engine::trace::ElementTrace& trace,
                                     const QString& source);

widgets::DiffTableData diffTableData(const engine::trace::ProfileComparison& comparison);

// The difference map of `tensor`: planes A dequantized, B dequantized, B − A (real) and
// B − A in steps (the "error (LSB)" plane); the hover text gives both stored integers.
// Fails with one line when a run lacks the tensor.
Result<std::shared_ptr<widgets::TensorPlotData>> diffPlotData(
    const model::Model& model, int subgraph, int tensor,
    const std::shared_ptr<const engine::trace::ProfileComparison>& comparison);

}  // namespace qs::app
