// The model open in the main window, and the value types the widgets show of it: the graph,
// the layer rows and the inspector's data, each optionally combined with a run's outcome.
#pragma once

#include <QString>
#include <QVector>
#include <memory>

#include "model/error.h"
#include "model/model.h"
#include "widgets/graph/graph_model.h"
#include "widgets/inspector/inspector_data.h"
#include "widgets/layers/layer_table_model.h"

namespace qs::app {

struct RunOutcome;

class ModelDocument {
public:
    static Result<std::shared_ptr<const ModelDocument>> open(const QString& path);

    const model::Model& model() const { return m_model; }
    QString path() const { return m_path; }
    QString fileName() const;
    // One line for the window's header: ops, tensors, inputs and outputs of subgraph `sg`.
    QString summary(int subgraph) const;

    // Graph inputs, ops and graph outputs as nodes; non-constant tensors as edges. With an
    // outcome, nodes carry `metric`'s value (of the op's first output) and ops the run did
    // not reach are greyed with the reason.
    widgets::GraphModel graph(int subgraph, const RunOutcome* outcome, const QString& metric) const;
    // One row per graph input and per op output.
    QVector<widgets::LayerRow> layerRows(int subgraph, const RunOutcome* outcome) const;
    // Op `op`'s inspector page (op -1 with `tensor`: a graph input/output tensor).
    widgets::InspectorData inspect(int subgraph, int op, int tensor,
                                   const RunOutcome* outcome) const;

private:
    // Why op `op` has no value in `outcome` (empty when it ran).
    QString notRunReason(int subgraph, int op, const RunOutcome* outcome) const;

    model::Model m_model;
    QString m_path;
};

// Colour scale of a metric column: fixed, meaningful ends for the metrics with a natural scale
// (SQNR 40 -> 0 dB, RMSE/scale 0.29 -> 4 LSB, ...), else the range of the values.
widgets::MetricScale metricScale(const widgets::MetricColumn& column,
                                 const QVector<double>& values);

}  // namespace qs::app
