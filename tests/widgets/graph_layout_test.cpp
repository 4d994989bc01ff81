// The layered layout: structure (layers, no overlaps, downward edges), cycles, and a timing
// report on synthetic 1000-op graphs (reported, not asserted: the machine is shared).
#include <QElapsedTimer>
#include <QFile>
#include <QTextStream>
#include <QtTest>
#include <map>

#include "synthetic_graph.h"
#include "widgets/graph/graph_layout.h"
#include "widgets_tests.h"

using qs::widgets::GraphLayout;
using qs::widgets::layoutGraph;

namespace {

struct Input {
    std::vector<QSizeF> sizes;
    std::vector<std::pair<int, int>> edges;
};

Input inputOf(const qs::widgets::GraphModel& g) {
    Input in;
    for (int i = 0; i < g.nodes.size(); ++i) in.sizes.emplace_back(100 + (i * 37) % 90, 46);
    for (const auto& e : g.edges) in.edges.emplace_back(e.from, e.to);
    return in;
}

// No two nodes of one row overlap (rows = equal centre y).
bool noOverlaps(const Input& in, const GraphLayout& l) {
    std::map<double, std::vector<std::pair<double, double>>> rows;
    for (size_t i = 0; i < in.sizes.size(); ++i) {
        rows[l.centres[i].y()].emplace_back(l.centres[i].x() - in.sizes[i].width() / 2,
                                            l.centres[i].x() + in.sizes[i].width() / 2);
    }
    for (auto& [y, spans] : rows) {
        std::sort(spans.begin(), spans.end());
        for (size_t i = 1; i < spans.size(); ++i) {
            if (spans[i].first < spans[i - 1].second - 1e-6) return false;
        }
    }
    return true;
}

bool edgesPointDown(const Input& in, const GraphLayout& l) {
    for (size_t e = 0; e < in.edges.size(); ++e) {
        const auto& r = l.routes[e];
        if (r.size() < 2) return false;
        const auto [a, b] = in.edges[e];
        if (!(l.centres[a].y() < l.centres[b].y())) return false;
        if (std::abs(r.front().y() - (l.centres[a].y() + in.sizes[a].height() / 2)) > 1e-6)
            return false;
        if (std::abs(r.back().y() - (l.centres[b].y() - in.sizes[b].height() / 2)) > 1e-6)
            return false;
    }
    return true;
}

double timeLayout(const Input& in, GraphLayout* out) {
    QElapsedTimer t;
    t.start();
    *out = layoutGraph(in.sizes, in.edges);
    return static_cast<double>(t.nsecsElapsed()) / 1e6;
}

}  // namespace

class GraphLayoutTest : public QObject {
    Q_OBJECT
private slots:
    void emptyAndSingle() {
        const GraphLayout empty = layoutGraph({}, {});
        QVERIFY(empty.centres.empty());
        const GraphLayout one = layoutGraph({QSizeF(100, 40)}, {});
        QCOMPARE(one.centres.size(), size_t{1});
        QCOMPARE(one.bounds, QRectF(0, 0, 100, 40));
    }

    void diamondHasNoCrossingsAndSymmetricBranches() {
        const Input in{{QSizeF(100, 40), QSizeF(100, 40), QSizeF(100, 40), QSizeF(100, 40)},
                       {{0, 1}, {0, 2}, {1, 3}, {2, 3}}};
        const GraphLayout l = layoutGraph(in.sizes, in.edges);
        QCOMPARE(l.layers, 3);
        QCOMPARE(l.crossings, 0LL);
        QCOMPARE(l.centres[1].y(), l.centres[2].y());
        // Source and sink sit centred between the two branches.
        QVERIFY(std::abs(l.centres[0].x() - (l.centres[1].x() + l.centres[2].x()) / 2) < 1.0);
        QVERIFY(std::abs(l.centres[3].x() - l.centres[0].x()) < 1.0);
        QVERIFY(edgesPointDown(in, l));
    }

    void longEdgeGetsBendPoints() {
        // 0 -> 1 -> 2 -> 3 and a skip 0 -> 3: two dummies, route with four points.
        const Input in{{QSizeF(100, 40), QSizeF(100, 40), QSizeF(100, 40), QSizeF(100, 40)},
                       {{0, 1}, {1, 2}, {2, 3}, {0, 3}}};
        const GraphLayout l = layoutGraph(in.sizes, in.edges);
        QCOMPARE(l.dummies, 2);
        QCOMPARE(l.routes[3].size(), size_t{4});
        QVERIFY(noOverlaps(in, l));
    }

    void inputsSitNextToTheirConsumer() {
        // A second graph input used only by the last op lands one layer above it.
        const Input in{{QSizeF(100, 40), QSizeF(100, 40), QSizeF(100, 40), QSizeF(100, 40)},
                       {{0, 1}, {1, 2}, {3, 2}}};
        const GraphLayout l = layoutGraph(in.sizes, in.edges);
        QCOMPARE(l.centres[3].y(), l.centres[1].y());
    }

    void cycleIsLaidOutReversed() {
        const Input in{{QSizeF(80, 30), QSizeF(80, 30), QSizeF(80, 30)},
                       {{0, 1}, {1, 2}, {2, 0}, {1, 1}}};
        const GraphLayout l = layoutGraph(in.sizes, in.edges);
        QCOMPARE(l.centres.size(), size_t{3});
        QVERIFY(!l.routes[2].empty());
        // The back edge runs upwards: it starts at node 2 and ends at node 0.
        QVERIFY(l.routes[2].front().y() > l.routes[2].back().y());
        QVERIFY(l.routes[3].empty());  // self-loop
    }

    void chainOf1000() {
        const Input in = inputOf(qs::test::syntheticChain(1000));
        GraphLayout l;
        const double ms = timeLayout(in, &l);
        qInfo("layout: 1000-op chain in %.1f ms", ms);
        QCOMPARE(l.layers, 1000);
        QCOMPARE(l.crossings, 0LL);
        QCOMPARE(l.dummies, 0);
        QVERIFY(edgesPointDown(in, l));
        // A chain is a straight line.
        for (const QPointF& c : l.centres) QCOMPARE(c.x(), l.centres.front().x());
    }

    void dagOf1000() {
        const auto g = qs::test::syntheticDag(1000);
        const Input in = inputOf(g);
        GraphLayout l;
        const double ms = timeLayout(in, &l);
        qInfo(
            "layout: 1000-op DAG (%d edges, %d layers, %d bend points, %lld crossings) in %.1f ms",
            static_cast<int>(in.edges.size()), l.layers, l.dummies, l.crossings, ms);
        QVERIFY(l.layers > 100);
        QVERIFY(l.dummies > 0);
        QVERIFY(noOverlaps(in, l));
        QVERIFY(edgesPointDown(in, l));
        for (const QPointF& c : l.centres) QVERIFY(std::isfinite(c.x()) && std::isfinite(c.y()));

        // The same graph in DOT, so Graphviz can be timed on exactly this input:
        //   time dot -Tplain build-gui/synthetic_dag_1000.dot > /dev/null
        QFile dot(QStringLiteral(QS_BINARY_DIR "/synthetic_dag_1000.dot"));
        if (dot.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
            QTextStream s(&dot);
            s << "digraph G {\n  node [shape=box];\n";
            for (int i = 0; i < g.nodes.size(); ++i) {
                s << "  n" << i << " [label=\"" << g.nodes[i].title << "\\n"
                  << g.nodes[i].options << "\\n"
                  << g.nodes[i].output << "\"];\n";
            }
            for (const auto& e : g.edges) s << "  n" << e.from << " -> n" << e.to << ";\n";
            s << "}\n";
        }
    }
};

QObject* qs::test::makeGraphLayoutTest() {
    return new GraphLayoutTest;
}

#include "graph_layout_test.moc"
