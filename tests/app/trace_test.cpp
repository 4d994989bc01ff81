// The element trace panel and the profile difference map in the main window, headless, on the
// bundled sample (resnet8, int8) with the seeded random input:
// - the panel's final integer per profile equals the engine's output for that element under
//   that profile when the op's inputs are those of the int run (each profile run once with
//   every tensor replaced by the reference run's value, so each op sees the same inputs);
// - on the first layer where reference and xnnpack differ, a differing element's trace parts
//   and the parting row is highlighted;
// - the difference table's counts and buckets equal compareRuns on two independent runs;
//   selecting a row selects the op; clicks in the heatmaps open traces; JSON export;
// - screenshots of both docks, checked non-blank.
#include <qcustomplot.h>
#include <QAbstractItemModelTester>
#include <QDir>
#include <QDockWidget>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QSet>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTableView>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>
#include <map>

#include "app/gui/main_window.h"
#include "app/gui/model_document.h"
#include "app/gui/trace_tools.h"
#include "engine/executor.h"
#include "engine/trace/profile_diff.h"
#include "main_window_testing.h"
#include "support/screenshots.h"
#include "widgets/graph/graph_panel.h"
#include "widgets/graph/graph_view.h"
#include "widgets/plots/heatmap_view.h"
#include "widgets/plots/tensor_views_panel.h"
#include "widgets/trace/diff_table_model.h"
#include "widgets/trace/element_trace_view.h"
#include "widgets/trace/profile_diff_view.h"

using qs::SubgraphId;
using qs::TensorId;
using qs::app::MainWindow;
using qs::app::TraceTools;
using qs::engine::RoundingProfile;
using qs::engine::TensorValue;

using qs::test::distinctColours;
using qs::test::screenshotDir;
using qs::test::selectTensor;
using qs::test::waitForRun;

namespace {

void shoot(QWidget* widget, const QString& name, int minColours = 40) {
    const QImage image = widget->grab().toImage();
    QVERIFY(!image.isNull());
    QVERIFY(image.save(screenshotDir() + QStringLiteral("/trace_%1.png").arg(name)));
    QVERIFY2(distinctColours(image, 2) > minColours,
             qPrintable(name + QStringLiteral(" looks blank")));
}

// `path` (default: the bundled sample) under the reference profile, seeded random input 0,
// run finished.
bool openSample(MainWindow& w, const QString& path = qs::app::bundledSamplePath()) {
    w.resize(1600, 1000);
    w.show();
    w.setProfile(RoundingProfile::Reference);
    return QTest::qWaitForWindowExposed(&w) && w.openModel(path, false) && waitForRun(w);
}

// Traces `element` of the selected tensor and waits for the panel.
bool traceAndWait(TraceTools* tools, const QVector<int>& element) {
    QSignalSpy shown(tools, &TraceTools::traceShown);
    tools->traceSelected(element);
    return !shown.isEmpty() || shown.wait(120000);
}

// The panel's final integer per profile column (the "output" row).
std::vector<int64_t> panelOutputs(const qs::widgets::ElementTraceView* view) {
    const QTableWidget* t = view->stepsTable();
    for (int r = 0; r < t->rowCount(); ++r) {
        if (!t->item(r, 0) || t->item(r, 0)->text() != QStringLiteral("output")) continue;
        std::vector<int64_t> out;
        for (int c = 1; c < t->columnCount(); ++c)
            out.push_back(t->item(r, c)->text().toLongLong());
        return out;
    }
    return {};
}

int64_t storedAt(const TensorValue& v, int64_t i) {
    switch (v.dtype()) {
        case qs::model::DType::Int8:
            return v.data<int8_t>()[static_cast<size_t>(i)];
        case qs::model::DType::UInt8:
            return v.data<uint8_t>()[static_cast<size_t>(i)];
        case qs::model::DType::Int16:
            return v.data<int16_t>()[static_cast<size_t>(i)];
        default:
            return INT64_MIN;
    }
}

QVector<int> unravel(const std::vector<int32_t>& shape, int64_t index) {
    QVector<int> c(static_cast<qsizetype>(shape.size()));
    for (qsizetype d = c.size() - 1; d >= 0; --d) {
        c[d] = static_cast<int>(index % shape[static_cast<size_t>(d)]);
        index /= shape[static_cast<size_t>(d)];
    }
    return c;
}

QPoint cellPixel(qs::widgets::HeatmapView* heat, int row, int col) {
    auto* plot = heat->plot();
    return QPoint(static_cast<int>(plot->xAxis->coordToPixel(col)),
                  static_cast<int>(plot->yAxis->coordToPixel(row)));
}

}  // namespace

class TraceTest : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        QSettings().clear();
    }

    // Many elements of every traceable op: the panel's output per profile is the engine's.
    void panelOutputsEqualEngine_data() {
        QTest::addColumn<QString>("path");
        QTest::addColumn<int>("traceableOps");
        const QString dir = QStringLiteral(QS_CONFORMANCE_DIR "/");
        // 9 CONV_2D, 3 ADD, AVERAGE_POOL_2D, FULLY_CONNECTED.
        QTest::newRow("resnet8 (bundled)") << qs::app::bundledSamplePath() << 14;
        // 5 CONV_2D, 4 DEPTHWISE_CONV_2D, AVERAGE_POOL_2D, FULLY_CONNECTED.
        QTest::newRow("kws_dscnn_int8")
            << dir + QStringLiteral("kws_dscnn_int8/model.tflite") << 11;
        QTest::newRow("MUL int8")
            << dir + QStringLiteral("single_mul_default_a8w8_recipe_quantized/model.tflite") << 1;
        QTest::newRow("ADD int16")
            << dir + QStringLiteral("single_add_default_a16w8_recipe_quantized/model.tflite") << 1;
    }

    void panelOutputsEqualEngine() {
        QFETCH(QString, path);
        QFETCH(int, traceableOps);
        MainWindow w;
        QVERIFY(openSample(w, path));
        const auto& model = w.document()->model();
        const auto& sg = model.main();

        // The int run (reference, seeded input 0), then each profile with every tensor
        // replaced by that run's value after its op computed it: each op's output under each
        // profile from the int run's inputs.
        auto inputs = qs::engine::seededInputs(model, SubgraphId{0}, 0);
        QVERIFY(inputs);
        qs::engine::RunOptions o;
        o.profile = RoundingProfile::Reference;
        auto ref = qs::engine::run(model, SubgraphId{0}, *inputs, o);
        QVERIFY(ref && ref->complete());
        std::map<RoundingProfile, std::map<int, TensorValue>> isolated;
        for (const auto p : qs::engine::kAllProfiles) {
            qs::engine::RunOptions po;
            po.profile = p;
            po.override_value = [&](TensorId t, const TensorValue& computed) -> const TensorValue* {
                isolated[p][t.value] = computed;
                const auto& r = ref->values[static_cast<size_t>(t.value)];
                return r.valid() ? &r : nullptr;
            };
            auto r = qs::engine::run(model, SubgraphId{0}, *inputs, po);
            QVERIFY(r && r->complete());
        }

        TraceTools* tools = w.traceTools();
        int traced = 0;
        for (size_t op = 0; op < sg.operators.size(); ++op) {
            const TensorId out = sg.operators[op].outputs.front();
            if (!qs::engine::trace::traceSupported(model, SubgraphId{0}, out)) continue;
            QVERIFY(selectTensor(w, out.value));
            const TensorValue& value = ref->values[static_cast<size_t>(out.value)];
            const int64_t n = value.numElements();
            for (int k = 0; k < 12; ++k) {
                const int64_t flat = (k * 7919 + static_cast<int64_t>(op) * 131) % n;
                const QVector<int> element = unravel(value.shape(), flat);
                QVERIFY(traceAndWait(tools, element));
                QVERIFY2(tools->lastTrace(),
                         qPrintable(tools->traceView()->messageLabel()->text()));
                QCOMPARE(tools->lastTrace()->flat_index, flat);
                // The panel traced the int run's inputs.
                QCOMPARE(*tools->lastTrace()->run_output, storedAt(value, flat));
                const auto outputs = panelOutputs(tools->traceView());
                QCOMPARE(outputs.size(), qs::engine::kAllProfiles.size());
                for (size_t p = 0; p < outputs.size(); ++p) {
                    const auto profile = qs::engine::kAllProfiles[p];
                    QCOMPARE(tools->traceView()
                                 ->stepsTable()
                                 ->horizontalHeaderItem(static_cast<int>(p) + 1)
                                 ->text(),
                             QString::fromLatin1(qs::engine::profileName(profile).data()));
                    QCOMPARE(outputs[p], storedAt(isolated[profile][out.value], flat));
                }
                ++traced;
            }
        }
        QCOMPARE(traced, 12 * traceableOps);
    }

    // Spin boxes, JSON export, a click in the tensor views' heatmap, an unsupported op, and
    // the menu actions.
    void panelControls() {
        MainWindow w;
        QVERIFY(openSample(w));
        TraceTools* tools = w.traceTools();

        // Coordinates through the spin boxes and the Trace button.
        QVERIFY(selectTensor(w, 26));
        auto* view = tools->traceView();
        QCOMPARE(view->spinBoxes().size(), 4);
        view->spinBoxes()[1]->setValue(3);
        view->spinBoxes()[2]->setValue(5);
        view->spinBoxes()[3]->setValue(7);
        QSignalSpy shown(tools, &TraceTools::traceShown);
        view->traceButton()->click();
        QVERIFY(!shown.isEmpty() || shown.wait(10000));
        QVERIFY(tools->lastTrace());
        QCOMPARE(tools->lastTrace()->element, (std::vector<int32_t>{0, 3, 5, 7}));
        QCOMPARE(tools->lastTrace()->op_name, std::string("CONV_2D"));
        QVERIFY(view->termsTable()->rowCount() > 0);
        QVERIFY(view->commonTable()->rowCount() >= 3);

        // JSON export: one object per profile with its output.
        QTemporaryDir tmp;
        QString error;
        const QString path = tmp.filePath(QStringLiteral("trace.json"));
        QVERIFY2(view->exportJson(path, &error), qPrintable(error));
        QFile f(path);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QJsonObject j = QJsonDocument::fromJson(f.readAll()).object();
        const QJsonArray profiles = j.value(QStringLiteral("profiles")).toArray();
        QCOMPARE(profiles.size(), 4);
        for (int p = 0; p < 4; ++p)
            QCOMPARE(profiles[p].toObject().value(QStringLiteral("output")).toInteger(),
                     tools->lastTrace()->profiles[static_cast<size_t>(p)].output);
        QVERIFY(view->data().text.contains(QStringLiteral("SaturatingRoundingDoublingHighMul")));

        // A click in the tensor views' heatmap traces that element.
        auto* heat = w.tensorViews()->heatmap();
        w.tensorViews()->tabs()->setCurrentIndex(0);
        heat->setTiled(false);
        heat->setChannel(9);
        QTest::qWait(50);
        QSignalSpy clickShown(tools, &TraceTools::traceShown);
        QTest::mouseClick(heat->plot(), Qt::LeftButton, {}, cellPixel(heat, 4, 11));
        QVERIFY(!clickShown.isEmpty() || clickShown.wait(10000));
        QVERIFY(tools->lastTrace());
        QCOMPARE(tools->lastTrace()->output.value, 26);
        QCOMPARE(tools->lastTrace()->element, (std::vector<int32_t>{0, 4, 11, 9}));
        QCOMPARE(view->element(), (QVector<int>{0, 4, 11, 9}));  // the spin boxes follow
        shoot(tools->traceDock(), QStringLiteral("panel"));

        // An op the trace does not take: one line why, no trace.
        QVERIFY(selectTensor(w, 37));  // SOFTMAX
        QVERIFY(traceAndWait(tools, {0, 1}));
        QVERIFY(!tools->lastTrace());
        QVERIFY2(view->messageLabel()->text().contains(QStringLiteral("SOFTMAX")),
                 qPrintable(view->messageLabel()->text()));
        QVERIFY(!view->traceButton()->isEnabled());
    }

    // View › Element Trace (Ctrl+E) and Profile Difference Map (Ctrl+D) open their docks
    // with content: the selected output's element traced, the default profiles compared.
    void menuActions() {
        MainWindow w;
        QVERIFY(openSample(w));
        TraceTools* tools = w.traceTools();
        auto action = [&](const QKeySequence& key) -> QAction* {
            for (QAction* a : w.findChildren<QAction*>())
                if (a->shortcut() == key) return a;
            return nullptr;
        };
        QAction* trace = action(QKeySequence(Qt::CTRL | Qt::Key_E));
        QAction* diff = action(QKeySequence(Qt::CTRL | Qt::Key_D));
        QVERIFY(trace && diff);
        QVERIFY(!tools->traceDock()->isVisible() && !tools->diffDock()->isVisible());
        QVERIFY(selectTensor(w, 26));
        QSignalSpy traced(tools, &TraceTools::traceShown);
        trace->trigger();
        QVERIFY(!traced.isEmpty() || traced.wait(60000));
        QVERIFY(tools->traceDock()->isVisible());
        QVERIFY(tools->lastTrace());
        QCOMPARE(tools->lastTrace()->output.value, 26);
        QCOMPARE(tools->lastTrace()->element, (std::vector<int32_t>{0, 0, 0, 0}));
        QSignalSpy compared(tools, &TraceTools::comparisonShown);
        diff->trigger();
        QVERIFY(!compared.isEmpty() || compared.wait(60000));
        QVERIFY(tools->diffDock()->isVisible());
        QVERIFY(tools->comparison());
        QCOMPARE(tools->comparison()->a, RoundingProfile::Reference);
        QCOMPARE(tools->comparison()->b, RoundingProfile::Xnnpack);
        // The map follows the selection.
        QVERIFY(tools->diffView()->mapLabel()->text().contains(QStringLiteral("tensor 26")));
        QCOMPARE(tools->diffView()->table()->currentIndex().row(),
                 tools->diffView()->model()->rowForTensor(26));

        // Another model: neither the trace nor the comparison of the old one stays.
        const auto* before = w.lastOutcome();
        QVERIFY(
            w.openModel(QStringLiteral(QS_CONFORMANCE_DIR "/kws_dscnn_int8/model.tflite"), false));
        QVERIFY(waitForRun(w, before));
        QVERIFY(!tools->lastTrace());
        QVERIFY(!tools->comparison());
        QCOMPARE(tools->diffView()->model()->rowCount(), 0);
    }

    // Reference vs xnnpack: the table's counts are compareRuns'; the first differing layer's
    // differing element parts in the trace, highlighted.
    void differenceMapAndParting() {
        MainWindow w;
        QVERIFY(openSample(w));
        const auto& model = w.document()->model();
        TraceTools* tools = w.traceTools();
        QSignalSpy done(tools, &TraceTools::comparisonShown);
        tools->compareProfiles(RoundingProfile::Reference, RoundingProfile::Xnnpack);
        QVERIFY(done.wait(120000));
        QVERIFY(tools->comparison());
        QVERIFY(tools->diffDock()->isVisible());

        // Independent runs of both profiles, compared by the engine.
        auto inputs = qs::engine::seededInputs(model, SubgraphId{0}, 0);
        QVERIFY(inputs);
        qs::engine::RunOptions oa, ob;
        oa.profile = RoundingProfile::Reference;
        ob.profile = RoundingProfile::Xnnpack;
        auto a = qs::engine::run(model, SubgraphId{0}, *inputs, oa);
        auto b = qs::engine::run(model, SubgraphId{0}, *inputs, ob);
        QVERIFY(a && b);
        const auto expected = qs::engine::trace::compareRuns(model, SubgraphId{0}, *a, *b);
        auto* table = tools->diffView()->model();
        QAbstractItemModelTester tester(table,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        QCOMPARE(table->rowCount(), static_cast<int>(expected.layers.size()));
        QVERIFY(expected.first_differing);
        QCOMPARE(table->table().firstDiffering, static_cast<int>(*expected.first_differing));
        using Col = qs::widgets::DiffTableModel;
        for (int r = 0; r < table->rowCount(); ++r) {
            const auto& l = expected.layers[static_cast<size_t>(r)];
            auto value = [&](int c) {
                return table->data(table->index(r, c), Col::ValueRole).toLongLong();
            };
            QCOMPARE(value(Col::Index), static_cast<qint64>(l.op.value));
            QCOMPARE(value(Col::Differing), l.differing);
            QCOMPARE(value(Col::Elements), l.elements);
            for (int k = 0; k < qs::widgets::kDiffBucketCount; ++k)
                QCOMPARE(value(Col::FirstBucket + k), l.histogram[static_cast<size_t>(k)]);
        }
        QVERIFY(table->data(table->index(table->table().firstDiffering, Col::Op))
                    .toString()
                    .contains(QStringLiteral("first difference")));

        // Selecting the first differing row selects its op in the graph and maps its tensor.
        const auto& first = expected.layers[*expected.first_differing];
        QTableView* tv = tools->diffView()->table();
        tv->setCurrentIndex(table->index(table->table().firstDiffering, 0));
        QCOMPARE(w.graphPanel()->view()->selectedNode(),
                 w.graphPanel()->view()->nodeForOp(first.op.value));
        auto* heat = tools->diffView()->heatmap();
        auto d = qs::engine::trace::diffTensor(a->values[static_cast<size_t>(first.tensor.value)],
                                               b->values[static_cast<size_t>(first.tensor.value)]);
        QVERIFY(d && d->differing > 0);
        QVERIFY(tools->diffView()->mapLabel()->text().contains(
            QStringLiteral("%1 of %2 elements differ").arg(d->differing).arg(d->elements)));

        // Click the first differing element in the map: its trace (on the reference run's
        // inputs, equal for both profiles at this first differing layer) parts.
        const QVector<int> at = unravel(d->shape, d->indices.front());
        heat->setTiled(false);
        heat->setChannel(at.back());
        tools->diffDock()->raise();
        QTest::qWait(50);
        QSignalSpy shown(tools, &TraceTools::traceShown);
        QTest::mouseClick(heat->plot(), Qt::LeftButton, {},
                          cellPixel(heat, at[at.size() - 3], at[at.size() - 2]));
        QVERIFY(!shown.isEmpty() || shown.wait(10000));
        const auto& trace = tools->lastTrace();
        QVERIFY2(trace, qPrintable(tools->traceView()->messageLabel()->text()));
        QCOMPARE(trace->flat_index, d->indices.front());
        QVERIFY(trace->parting);
        QVERIFY(trace->outputs_differ);
        const auto* ref = trace->profile(RoundingProfile::Reference);
        const auto* xnn = trace->profile(RoundingProfile::Xnnpack);
        QCOMPARE(static_cast<int64_t>(ref->output),
                 storedAt(a->values[first.tensor.value], trace->flat_index));
        QCOMPARE(static_cast<int64_t>(xnn->output),
                 storedAt(b->values[first.tensor.value], trace->flat_index));
        // The parting row is highlighted, and it is the engine's parting step.
        const QTableWidget* steps = tools->traceView()->stepsTable();
        int highlighted = 0;
        for (int r = 0; r < steps->rowCount(); ++r) {
            const bool lit = steps->item(r, 1)->background().color() ==
                             qs::widgets::ElementTraceView::partingColour();
            const bool isParting = steps->item(r, 0)->data(Qt::UserRole).toString() ==
                                   QString::fromStdString(trace->parting->key);
            QCOMPARE(lit && r < steps->rowCount() - 3, isParting);
            highlighted += isParting ? 1 : 0;
        }
        QCOMPARE(highlighted, 1);
        QVERIFY(tools->traceView()->verdictLabel()->text().contains(QStringLiteral("part")));
        shoot(tools->traceDock(), QStringLiteral("parting"));
        tools->diffDock()->raise();
        QTest::qWait(50);
        shoot(tools->diffDock(), QStringLiteral("difference_map"));
        shoot(&w, QStringLiteral("main_window"));

        // Same profile twice: a one-line refusal.
        QSignalSpy again(tools, &TraceTools::comparisonShown);
        tools->compareProfiles(RoundingProfile::Builtin, RoundingProfile::Builtin);
        QVERIFY(!again.isEmpty());
        QVERIFY(tools->diffView()->statusLabel()->text().contains(QStringLiteral("different")));
    }

    // Cancel stops the comparison; the view says so.
    void comparisonCancels() {
        MainWindow w;
        QVERIFY(openSample(w));
        TraceTools* tools = w.traceTools();
        QSignalSpy done(tools, &TraceTools::comparisonShown);
        tools->compareProfiles(RoundingProfile::Reference, RoundingProfile::Builtin);
        tools->cancel();
        QVERIFY(done.wait(120000));
        // Either the cancel came in time or the (tiny) model had finished already.
        const QString status = tools->diffView()->statusLabel()->text();
        QVERIFY2(status.contains(QStringLiteral("cancelled")) || tools->comparison(),
                 qPrintable(status));
        QVERIFY(!tools->busy());
    }
};

QTEST_MAIN(TraceTest)
#include "trace_test.moc"
