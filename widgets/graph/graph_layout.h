// A layered (Sugiyama) layout of a DAG, top to bottom: longest-path layering, dummy nodes on
// long edges, barycentre crossing reduction (best of several sweeps, crossings counted with a
// Fenwick tree), and coordinates from a minimal-displacement placement per layer
// (isotonic regression under the order and spacing constraints).
//
// Chosen over Graphviz dot (libgvc) after measuring both on the same synthetic graphs; the
// numbers are in tests/widgets/graph_layout_test.cpp's timing report and the issue note.
#pragma once

#include <QPointF>
#include <QRectF>
#include <QSizeF>
#include <utility>
#include <vector>

namespace qs::widgets {

struct LayoutSpacing {
    double nodeGap = 28.0;   // horizontal space between two nodes of a layer
    double dummyGap = 10.0;  // ... when one of them is an edge bend point
    double layerGap = 44.0;  // vertical space between layers
    int sweeps = 12;         // barycentre sweeps (down + up counts as two)
};

struct GraphLayout {
    std::vector<QPointF> centres;              // per node
    std::vector<std::vector<QPointF>> routes;  // per input edge: from the source's bottom to
                                               // the target's top, through bend points
    QRectF bounds;                             // of all nodes, starting at (0, 0)
    int layers = 0;
    int dummies = 0;
    long long crossings = 0;  // edge crossings of the chosen ordering
};

// `sizes` per node; `edges` as (from, to) node indices. Edges that would close a cycle are
// laid out reversed; self-loops are ignored (routes stay empty).
GraphLayout layoutGraph(const std::vector<QSizeF>& sizes,
                        const std::vector<std::pair<int, int>>& edges,
                        const LayoutSpacing& spacing = {});

}  // namespace qs::widgets
