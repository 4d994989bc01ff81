// What the graph view shows: plain value types the app fills from the model IR and the
// analysis results. The view never sees engine types.
#pragma once

#include <QString>
#include <QVector>
#include <limits>

namespace qs::widgets {

struct GraphNode {
    enum class Kind { Op, Input, Output };
    Kind kind = Kind::Op;
    int op = -1;      // op index (Kind::Op), else -1
    int tensor = -1;  // first output tensor of the op, or the graph input/output tensor
    QString title;    // "CONV_2D", or the tensor name of an input/output
    QString options;  // "3x3 s2 SAME RELU6"
    QString output;   // "INT8 [1,16,16,32]"
    QString tooltip;  // extra text shown on hover (tensor names, quantization)
    QString search;   // more text the search matches (tensor names); title/options always match
    double value = std::numeric_limits<double>::quiet_NaN();  // colour metric; NaN = none
    bool greyed = false;                                      // not evaluated
    QString greyReason;
};

struct GraphEdge {
    int from = 0;  // node indices into GraphModel::nodes
    int to = 0;
    int tensor = -1;
    QString label;  // tensor name, shown on hover
};

// How values map to colours: `good` is drawn green, `bad` red, linear in between (clamped).
// good > bad for metrics where higher is better (SQNR, cosine).
struct MetricScale {
    QString name;  // "SQNR"
    QString unit;  // "dB"
    double good = 0.0;
    double bad = 1.0;
    bool valid() const { return !name.isEmpty() && good != bad; }
};

struct GraphModel {
    QVector<GraphNode> nodes;
    QVector<GraphEdge> edges;
    MetricScale metric;
};

}  // namespace qs::widgets
