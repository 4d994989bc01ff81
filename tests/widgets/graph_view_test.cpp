// The graph view on synthetic graphs: item counts, colouring and threshold, search, selection
// signals, export, and a timing report of layout + first paint of a 1000-op graph.
#include <QElapsedTimer>
#include <QLabel>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include "synthetic_graph.h"
#include "widgets/graph/graph_items.h"
#include "widgets/graph/graph_panel.h"
#include "widgets/graph/graph_view.h"
#include "widgets_tests.h"

using qs::widgets::GraphModel;
using qs::widgets::GraphView;
using qs::widgets::NodeItem;

namespace {

int countNodeItems(const GraphView& view) {
    int n = 0;
    for (const QGraphicsItem* item : view.scene()->items()) n += item->type() == NodeItem::Type;
    return n;
}

}  // namespace

class GraphViewTest : public QObject {
    Q_OBJECT
private slots:
    void buildsOneItemPerNode() {
        GraphView view;
        view.setGraph(qs::test::syntheticDag(120));
        QCOMPARE(view.nodeItemCount(), 120);
        QCOMPARE(countNodeItems(view), 120);
        view.setGraph(qs::test::syntheticChain(5));
        QCOMPARE(countNodeItems(view), 5);
    }

    void coloursAndThreshold() {
        GraphView view;
        GraphModel g = qs::test::syntheticChain(10);
        g.metric = {QStringLiteral("SQNR"), QStringLiteral("dB"), 40.0, 0.0};
        for (int i = 0; i < 10; ++i) g.nodes[i].value = 4.0 * i;  // 0 .. 36 dB
        g.nodes[9].greyed = true;
        g.nodes[9].greyReason = QStringLiteral("no kernel for CUSTOM");
        view.setGraph(g);
        QVERIFY(std::isnan(view.nodeItem(9)->badness()));
        QVERIFY(view.nodeItem(9)->toolTip().contains(QStringLiteral("no kernel for CUSTOM")));
        QCOMPARE(view.nodeItem(0)->badness(), 1.0);  // 0 dB: as bad as it gets
        QCOMPARE(view.nodeItem(5)->badness(), 0.5);  // 20 dB
        view.setThreshold(1.0);
        QCOMPARE(view.nodesPastThreshold(), 0);
        view.setThreshold(0.5);  // worse than 20 dB: 0, 4, ..., 16 dB
        QCOMPARE(view.nodesPastThreshold(), 5);
        // New values without relayout keep the items.
        NodeItem* before = view.nodeItem(3);
        g.nodes[3].value = 40.0;
        view.updateGraph(g);
        QCOMPARE(view.nodeItem(3), before);
        QCOMPARE(view.nodesPastThreshold(), 4);
    }

    void panelLegendFollowsThreshold() {
        qs::widgets::GraphPanel panel;
        GraphModel g = qs::test::syntheticChain(4);
        g.metric = {QStringLiteral("RMSE/scale"), QStringLiteral("LSB"), 0.0, 2.0};
        for (int i = 0; i < 4; ++i) g.nodes[i].value = 0.5 * i;
        panel.view()->setGraph(g);
        panel.refreshLegend();
        panel.setThreshold(0.5);  // worse than 1 LSB: 1.5
        QCOMPARE(panel.view()->nodesPastThreshold(), 1);
        QVERIFY(panel.statusLabel()->text().contains(QLatin1String("1")));
    }

    void findNextCyclesThroughMatches() {
        GraphView view;
        view.setGraph(qs::test::syntheticChain(6));  // ADD, CONV_2D, ADD, ...
        QCOMPARE(view.findNext(QStringLiteral("conv")), 1);
        QCOMPARE(view.findNext(QStringLiteral("conv")), 3);
        QCOMPARE(view.findNext(QStringLiteral("conv")), 5);
        QCOMPARE(view.findNext(QStringLiteral("conv")), 1);
        QCOMPARE(view.findNext(QStringLiteral("no-such-op")), -1);
        QCOMPARE(view.selectedNode(), 1);
    }

    void selectionSignals() {
        GraphView view;
        view.setGraph(qs::test::syntheticDag(50));
        QSignalSpy spy(&view, &GraphView::nodeSelected);
        view.selectNode(7);
        QCOMPARE(spy.count(), 1);
        QCOMPARE(spy.at(0).at(0).toInt(), 7);
        QCOMPARE(spy.at(0).at(1).toInt(), 7);  // op index
        view.selectNode(7);                    // unchanged: no signal
        QCOMPARE(spy.count(), 1);
        view.nodeItem(9)->setSelected(true);  // as a mouse click would
        view.nodeItem(7)->setSelected(false);
        QVERIFY(spy.count() >= 2);
        QCOMPARE(view.selectedNode(), 9);
        QCOMPARE(view.nodeForOp(9), 9);
        QCOMPARE(view.nodeForTensor(9), 9);
    }

    void exportsPngAndSvg() {
        GraphView view;
        view.setGraph(qs::test::syntheticDag(30));
        QTemporaryDir dir;
        QString error;
        const QString png = dir.filePath(QStringLiteral("g.png"));
        const QString svg = dir.filePath(QStringLiteral("g.svg"));
        QVERIFY2(view.exportImage(png, &error), qPrintable(error));
        QVERIFY2(view.exportImage(svg, &error), qPrintable(error));
        QImage image(png);
        QVERIFY(!image.isNull());
        QVERIFY(image.width() > 100);
        QFile f(svg);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray text = f.readAll();
        QVERIFY(text.contains("<svg"));
        QVERIFY(text.contains("CONV_2D") || text.contains("ADD"));
        QVERIFY(!view.exportImage(QStringLiteral("/nonexistent-dir/g.png"), &error));
        QVERIFY(!error.isEmpty());
    }

    void timing1000OpsLayoutAndPaint() {
        GraphView view;
        view.resize(1200, 800);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        GraphModel g = qs::test::syntheticDag(1000);
        g.metric = {QStringLiteral("SQNR"), QStringLiteral("dB"), 40.0, 0.0};
        for (int i = 0; i < g.nodes.size(); ++i) g.nodes[i].value = (i * 13) % 41;
        QElapsedTimer t;
        t.start();
        view.setGraph(g);
        const double layoutMs = static_cast<double>(t.nsecsElapsed()) / 1e6;
        view.viewport()->repaint();
        const double paintMs = static_cast<double>(t.nsecsElapsed()) / 1e6 - layoutMs;
        // Fitted whole: every node visible at once, the worst case for painting.
        view.fitInView(view.sceneRect(), Qt::KeepAspectRatio);
        QElapsedTimer t2;
        t2.start();
        view.viewport()->repaint();
        const double wholeMs = static_cast<double>(t2.nsecsElapsed()) / 1e6;
        view.resetTransform();
        t2.restart();
        view.viewport()->repaint();
        const double fullZoomMs = static_cast<double>(t2.nsecsElapsed()) / 1e6;
        qInfo(
            "graph view, 1000-op DAG: measure+layout+scene %.1f ms, first paint %.1f ms, "
            "paint of the whole graph %.1f ms, paint at 100%% zoom %.1f ms",
            layoutMs, paintMs, wholeMs, fullZoomMs);
        QCOMPARE(view.nodeItemCount(), 1000);
        const QImage shot = view.grab().toImage();
        QDir().mkpath(qEnvironmentVariable("QS_SCREENSHOT_DIR", QDir::tempPath()));
        shot.save(qEnvironmentVariable("QS_SCREENSHOT_DIR", QDir::tempPath()) +
                  QStringLiteral("/graph_view_1000.png"));
    }
};

QObject* qs::test::makeGraphViewTest() {
    return new GraphViewTest;
}

#include "graph_view_test.moc"
