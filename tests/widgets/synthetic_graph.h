// Deterministic synthetic graphs for layout and view tests: a plain chain, and a DAG shaped
// like real CNNs (a main chain with residual skips, periodic fan-out/fan-in blocks, and a few
// long edges), so layering needs dummy nodes and ordering has crossings to remove.
#pragma once

#include <QString>
#include <QStringList>

#include "widgets/graph/graph_model.h"

namespace qs::test {

inline widgets::GraphModel syntheticChain(int ops) {
    widgets::GraphModel g;
    for (int i = 0; i < ops; ++i) {
        widgets::GraphNode n;
        n.op = i;
        n.tensor = i;
        n.title = i % 2 ? QStringLiteral("CONV_2D") : QStringLiteral("ADD");
        n.options = QStringLiteral("3x3 s1x1 SAME RELU6");
        n.output = QStringLiteral("INT8 [1,56,56,%1]").arg(16 + i % 64);
        g.nodes.push_back(n);
        if (i) g.edges.push_back({i - 1, i, i - 1, QStringLiteral("t%1").arg(i - 1)});
    }
    return g;
}

inline widgets::GraphModel syntheticDag(int ops) {
    static const QStringList kTypes = {QStringLiteral("CONV_2D"),
                                       QStringLiteral("DEPTHWISE_CONV_2D"),
                                       QStringLiteral("ADD"),
                                       QStringLiteral("CONCATENATION"),
                                       QStringLiteral("FULLY_CONNECTED"),
                                       QStringLiteral("MEAN")};
    widgets::GraphModel g;
    uint32_t state = 12345;
    const auto next = [&state] {
        state = state * 1664525u + 1013904223u;
        return state >> 8;
    };
    for (int i = 0; i < ops; ++i) {
        widgets::GraphNode n;
        n.op = i;
        n.tensor = i;
        n.title = kTypes[static_cast<int>(next() % kTypes.size())];
        n.options = QStringLiteral("s%1x%1 SAME").arg(1 + next() % 2);
        n.output =
            QStringLiteral("INT8 [1,%1,%1,%2]").arg(8 << (next() % 3)).arg(8 * (1 + next() % 16));
        n.search = QStringLiteral("tensor_%1").arg(i);
        g.nodes.push_back(n);
        const auto edge = [&](int from) {
            if (from >= 0 && from < i)
                g.edges.push_back({from, i, from, QStringLiteral("tensor_%1").arg(from)});
        };
        if (i % 40 >= 1 && i % 40 <= 3) {
            edge(i - (i % 40));  // a fan-out of three branches from the block start
        } else if (i % 40 == 4) {
            edge(i - 1), edge(i - 2), edge(i - 3);  // and their fan-in
        } else {
            edge(i - 1);
        }
        if (i % 3 == 0) edge(i - 2 - static_cast<int>(next() % 5));  // residual skips
        if (i % 97 == 0) edge(i - 30);                               // a long edge
    }
    return g;
}

}  // namespace qs::test
