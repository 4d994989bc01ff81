// The main window, headless: open the bundled sample and every conformance model and run
// them; graph <-> table selection sync; sorting; cancelling a run; the inspector's
// requantization numbers; exports; item models under QAbstractItemModelTester; screenshots
// that are not blank and hold one node item per graph input, op and output.
#include <QAbstractItemModelTester>
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QSet>
#include <QSortFilterProxyModel>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTableView>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>
#include <cmath>

#include "app/gui/input_source.h"
#include "app/gui/main_window.h"
#include "app/gui/model_document.h"
#include "engine/io/npy.h"
#include "engine/preprocess/image.h"
#include "engine/preprocess/pipeline.h"
#include "main_window_testing.h"
#include "support/screenshots.h"
#include "widgets/graph/graph_items.h"
#include "widgets/graph/graph_panel.h"
#include "widgets/graph/graph_view.h"
#include "widgets/inspector/inspector_view.h"
#include "widgets/layers/layer_table_model.h"
#include "widgets/layers/layer_table_view.h"

using qs::app::MainWindow;
using qs::widgets::LayerTableModel;

using qs::test::distinctColours;
using qs::test::screenshotDir;
using qs::test::waitForRun;

namespace {

QString conformance(const char* name) {
    return QStringLiteral(QS_CONFORMANCE_DIR "/%1/model.tflite").arg(QLatin1String(name));
}

int nodeItems(const MainWindow& w) {
    int n = 0;
    for (const QGraphicsItem* item : w.graphPanel()->view()->scene()->items()) {
        n += item->type() == qs::widgets::NodeItem::Type;
    }
    return n;
}

int expectedNodes(const MainWindow& w) {
    const auto& sg = w.document()->model().main();
    return static_cast<int>(sg.inputs.size() + sg.operators.size() + sg.outputs.size());
}

}  // namespace

class MainWindowTest : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);  // keep settings out of the user's files
        QSettings().clear();
    }

    void opensAndRunsBundledSample() {
        MainWindow w;
        w.show();
        const QString sample = qs::app::bundledSamplePath();
        QVERIFY2(!sample.isEmpty(), "bundled sample not found");
        QVERIFY(w.openModel(sample, false));
        QVERIFY(waitForRun(w));
        const auto* out = w.lastOutcome();
        QVERIFY2(out->ok(), qPrintable(out->error));
        const auto& sg = w.document()->model().main();
        QCOMPARE(out->opsRun, static_cast<int>(sg.operators.size()));
        QVERIFY(!out->metrics.columns.empty());
        // One row per graph input and op output, all with an SQNR.
        auto* model = w.layerTable()->model();
        QCOMPARE(model->rowCount(), static_cast<int>(sg.inputs.size() + sg.operators.size()));
        const int sqnr = model->metricColumn(QStringLiteral("SQNR"));
        QVERIFY(sqnr >= 0);
        for (int r = 1; r < model->rowCount(); ++r) {
            QVERIFY(
                std::isfinite(model->index(r, sqnr).data(LayerTableModel::ValueRole).toDouble()));
        }
        QCOMPARE(nodeItems(w), expectedNodes(w));
        QCOMPARE(w.graphPanel()->metric(), QStringLiteral("SQNR"));
        QVERIFY(w.graphPanel()->view()->graph().metric.valid());
        QVERIFY(w.windowTitle().contains(QStringLiteral("resnet8_cifar_int8.tflite")));
        QCOMPARE(w.recentFiles().value(0), QFileInfo(sample).absoluteFilePath());
    }

    void screenshots_data() {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("select");
        QTest::newRow("resnet8") << qs::app::bundledSamplePath() << QStringLiteral("conv2d");
        QTest::newRow("mobilenet_v2")
            << conformance("mobilenet_v2_quantized_1x3x224x224") << QStringLiteral("DEPTHWISE");
        QTest::newRow("kws_dscnn") << conformance("kws_dscnn_int8") << QStringLiteral("CONV_2D");
        QTest::newRow("hand_landmark") << conformance("hand_landmark_lite") << QString();
    }
    void screenshots() {
        QFETCH(QString, path);
        QFETCH(QString, select);
        MainWindow w;
        w.resize(1400, 880);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QVERIFY(w.openModel(path, false));
        QVERIFY(waitForRun(w));
        if (!select.isEmpty()) QVERIFY(w.graphPanel()->view()->findNext(select) >= 0);
        QCOMPARE(nodeItems(w), expectedNodes(w));
        const QImage image = w.grab().toImage();
        QVERIFY(!image.isNull());
        const QString file =
            screenshotDir() +
            QStringLiteral("/main_window_%1.png").arg(QLatin1String(QTest::currentDataTag()));
        QVERIFY(image.save(file));
        QVERIFY2(distinctColours(image) > 40, "screenshot looks blank");
    }

    void itemModelsAreConsistent() {
        MainWindow w;
        QAbstractItemModelTester tester(w.layerTable()->model(),
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        QAbstractItemModelTester proxyTester(
            w.layerTable()->proxy(), QAbstractItemModelTester::FailureReportingMode::QtTest);
        QVERIFY(w.openModel(qs::app::bundledSamplePath(), false));
        QVERIFY(waitForRun(w));
        QVERIFY(w.openModel(conformance("kws_dscnn_int8"), false));
        QVERIFY(waitForRun(w));
        w.layerTable()->setFilterText(QStringLiteral("CONV"));
        w.layerTable()->table()->sortByColumn(LayerTableModel::Type, Qt::DescendingOrder);
    }

    void selectionSyncsGraphTableAndInspector() {
        MainWindow w;
        w.show();
        QVERIFY(w.openModel(qs::app::bundledSamplePath(), false));
        QVERIFY(waitForRun(w));
        auto* view = w.graphPanel()->view();
        auto* table = w.layerTable();
        // Graph -> table and inspector.
        const int node = view->nodeForOp(4);
        view->nodeItem(node)->setSelected(true);  // as a click does
        const QModelIndex current = table->table()->currentIndex();
        QVERIFY(current.isValid());
        const auto* row = table->model()->row(table->proxy()->mapToSource(current).row());
        QCOMPARE(row->op, 4);
        QVERIFY(w.inspector()->data().title.startsWith(QStringLiteral("#4 ")));
        // Table -> graph.
        const int r = table->model()->rowForOp(9);
        table->table()->setCurrentIndex(table->proxy()->mapFromSource(table->model()->index(r, 1)));
        QCOMPARE(view->selectedNode(), view->nodeForOp(9));
        QVERIFY(w.inspector()->data().title.startsWith(QStringLiteral("#9 ")));
        // Search (Ctrl+F's find next) selects in both.
        QVERIFY(view->findNext(QStringLiteral("SOFTMAX")) >= 0);
        const auto* found =
            table->model()->row(table->proxy()->mapToSource(table->table()->currentIndex()).row());
        QCOMPARE(found->opType, QStringLiteral("SOFTMAX"));
        // A rerun keeps the selection (the table's rows are rebuilt: keep the tensor, not the
        // row pointer).
        const int foundTensor = found->tensor;
        const auto* before = w.lastOutcome();
        w.setSeed(7);
        QVERIFY(waitForRun(w, before));
        QCOMPARE(w.graphPanel()->view()->selectedNode(), view->nodeForTensor(foundTensor));
    }

    void tableSortsWorstFirstAndByColumn() {
        MainWindow w;
        QVERIFY(w.openModel(qs::app::bundledSamplePath(), false));
        QVERIFY(waitForRun(w));
        auto* proxy = w.layerTable()->proxy();
        const int sqnr = w.layerTable()->model()->metricColumn(QStringLiteral("SQNR"));
        // Worst first by default: ascending SQNR among rows that have one.
        double previous = -INFINITY;
        for (int r = 0; r < proxy->rowCount(); ++r) {
            const double v = proxy->index(r, sqnr).data(LayerTableModel::ValueRole).toDouble();
            if (std::isnan(v)) continue;
            QVERIFY2(v >= previous, qPrintable(QStringLiteral("row %1").arg(r)));
            previous = v;
        }
        // RMSE/scale: lower is better, so worst first is descending.
        const int lsb = w.layerTable()->model()->metricColumn(QStringLiteral("RMSE/scale"));
        w.layerTable()->sortWorstFirst(QStringLiteral("RMSE/scale"));
        previous = INFINITY;
        for (int r = 0; r < proxy->rowCount(); ++r) {
            const double v = proxy->index(r, lsb).data(LayerTableModel::ValueRole).toDouble();
            if (std::isnan(v)) continue;
            QVERIFY(v <= previous);
            previous = v;
        }
        w.layerTable()->table()->sortByColumn(LayerTableModel::Op, Qt::AscendingOrder);
        QCOMPARE(proxy->index(1, LayerTableModel::Op).data().toInt(), 0);
        // CSV of the selection: a header line and one line per row.
        w.layerTable()->table()->selectRow(2);
        const QStringList lines =
            w.layerTable()->selectionAsCsv().trimmed().split(QLatin1Char('\n'));
        QCOMPARE(lines.size(), 2);
        QVERIFY(lines[0].startsWith(QStringLiteral("op_index,Op,Output tensor")));
        QVERIFY(lines[0].contains(QStringLiteral("SQNR (dB)")));
    }

    void cancelGreysOutTheRest() {
        MainWindow w;
        QVERIFY(w.openModel(conformance("mobilenet_v2_quantized_1x3x224x224"), false));
        w.cancelRun();  // the run started by openModel stops at its first progress report
        QVERIFY(waitForRun(w));
        const auto* out = w.lastOutcome();
        QVERIFY(out->cancelled);
        QVERIFY(out->opsRun < out->opsTotal);
        const auto& g = w.graphPanel()->view()->graph();
        int greyed = 0;
        for (const auto& n : g.nodes) {
            if (!n.greyed) continue;
            ++greyed;
            QVERIFY(n.greyReason.contains(QStringLiteral("cancelled")));
        }
        QVERIFY(greyed > 0);
        // F5 reruns to the end.
        w.rerun();
        QVERIFY(waitForRun(w, out));
        QVERIFY(w.lastOutcome()->ok() && !w.lastOutcome()->cancelled);
    }

    void settingsAreSavedAndRerun() {
        {
            MainWindow w;
            QVERIFY(w.openModel(qs::app::bundledSamplePath(), false));
            QVERIFY(waitForRun(w));
            const auto* before = w.lastOutcome();
            w.setProfile(qs::engine::RoundingProfile::Xnnpack);
            QVERIFY(waitForRun(w, before));
            QCOMPARE(w.lastOutcome()->request.profile, qs::engine::RoundingProfile::Xnnpack);
            before = w.lastOutcome();
            w.setErrorMode(qs::app::ErrorMode::Local);
            QVERIFY(waitForRun(w, before));
            QCOMPARE(w.lastOutcome()->request.mode, qs::app::ErrorMode::Local);
        }
        MainWindow again;
        QCOMPARE(again.profile(), qs::engine::RoundingProfile::Xnnpack);
        QCOMPARE(again.errorMode(), qs::app::ErrorMode::Local);
        // For this window only (command-line flags, lessons): the saved defaults stay.
        again.setProfile(qs::engine::RoundingProfile::Builtin, false);
        again.setErrorMode(qs::app::ErrorMode::Accumulated, false);
        QCOMPARE(again.profile(), qs::engine::RoundingProfile::Builtin);
        {
            MainWindow third;
            QCOMPARE(third.profile(), qs::engine::RoundingProfile::Xnnpack);
            QCOMPARE(third.errorMode(), qs::app::ErrorMode::Local);
        }
        again.setProfile(qs::engine::RoundingProfile::Reference);
        again.setErrorMode(qs::app::ErrorMode::Accumulated);
    }

    void inspectorShowsRequantization() {
        MainWindow w;
        QVERIFY(w.openModel(qs::app::bundledSamplePath(), false));
        QVERIFY(waitForRun(w));
        const auto& sg = w.document()->model().main();
        const auto data = w.document()->inspect(0, 0, -1, w.lastOutcome());  // op 0: CONV_2D
        QCOMPARE(data.title, QStringLiteral("#0 CONV_2D"));
        const auto& ch = data.channels;
        const auto& weights = sg.tensor(sg.operators[0].inputs[1]).quantization;
        QCOMPARE(ch.effectiveScale.size(), static_cast<qsizetype>(weights.scales.size()));
        QCOMPARE(ch.weightAbsMax.size(), static_cast<qsizetype>(weights.scales.size()));
        const double sIn = sg.tensor(sg.operators[0].inputs[0]).quantization.scale();
        const double sOut = sg.tensor(sg.operators[0].outputs[0]).quantization.scale();
        for (int c = 0; c < ch.effectiveScale.size(); ++c) {
            QVERIFY(std::abs(ch.effectiveScale[c] -
                             sIn * weights.scales[static_cast<size_t>(c)] / sOut) < 1e-12);
            // multiplier * 2^(shift - 31) reproduces the scale to Q0.31 precision.
            QVERIFY(ch.multiplier[c] >= (1 << 30));
            const double back = ch.multiplier[c] * std::ldexp(1.0, ch.shift[c] - 31);
            QVERIFY(std::abs(back - ch.effectiveScale[c]) <= ch.effectiveScale[c] * 1e-9);
            QVERIFY(ch.weightAbsMax[c] > 0);
        }
        w.inspector()->setData(data);
        QCOMPARE(w.inspector()->channelTable()->rowCount(),
                 static_cast<int>(weights.scales.size()));
    }

    void exportsGraphAndReport() {
        MainWindow w;
        QVERIFY(w.openModel(qs::app::bundledSamplePath(), false));
        QVERIFY(waitForRun(w));
        QTemporaryDir dir;
        QString error;
        QVERIFY2(w.exportGraph(dir.filePath(QStringLiteral("g.svg")), &error), qPrintable(error));
        QVERIFY2(w.exportGraph(dir.filePath(QStringLiteral("g.png")), &error), qPrintable(error));
        QVERIFY(!QImage(dir.filePath(QStringLiteral("g.png"))).isNull());
        QVERIFY2(w.exportReport(dir.filePath(QStringLiteral("r.csv")), &error), qPrintable(error));
        QFile csv(dir.filePath(QStringLiteral("r.csv")));
        QVERIFY(csv.open(QIODevice::ReadOnly));
        QVERIFY(csv.readLine().startsWith("op_name,tensor_idx,num_elements,stddev,mean_error"));
        QVERIFY2(w.exportReport(dir.filePath(QStringLiteral("r.json")), &error), qPrintable(error));
        QVERIFY(!w.exportReport(QStringLiteral("/nonexistent-dir/r.csv"), &error));
    }

    void filterNarrowsRows() {
        MainWindow w;
        QVERIFY(w.openModel(qs::app::bundledSamplePath(), false));
        const int all = w.layerTable()->visibleRowCount();
        w.layerTable()->setFilterText(QStringLiteral("ADD"));
        const int adds = w.layerTable()->visibleRowCount();
        QVERIFY(adds > 0);
        QVERIFY(adds < all);
        w.layerTable()->setFilterText(QStringLiteral("no-such-op-anywhere"));
        QCOMPARE(w.layerTable()->visibleRowCount(), 0);
        w.layerTable()->setFilterText(QString());
        QCOMPARE(w.layerTable()->visibleRowCount(), all);
    }

    void badFilesKeepPreviousModelAndReportErrors() {
        MainWindow w;
        QVERIFY(w.openModel(qs::app::bundledSamplePath(), false));
        const auto* before = w.document();
        QTemporaryDir tmp;
        const QString bad = tmp.filePath(QStringLiteral("broken.tflite"));
        QFile f(bad);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("TFL3 this is not a flatbuffer");
        f.close();
        QVERIFY(!w.openModel(bad, false));
        QCOMPARE(w.document(), before);  // the open model stays
        QVERIFY(!w.openModel(QStringLiteral("/nonexistent/x.tflite"), false));
        // An input file that does not exist: the run fails with a one-line error.
        QVERIFY(waitForRun(w));
        const auto* ok = w.lastOutcome();
        w.setInputFiles({tmp.filePath(QStringLiteral("missing.npy"))});
        QVERIFY(waitForRun(w, ok));
        QVERIFY(!w.lastOutcome()->ok());
        QVERIFY(!w.lastOutcome()->error.contains(QLatin1Char('\n')));
        w.setInputFiles({});
    }

    // Input chooser: an image through the model's default pipeline, a folder as a dataset
    // (averaged over its samples), and bad inputs that fail the run with a one-line error.
    void imageAndFolderInputs() {
        using qs::app::InputSpec;
        namespace an = qs::engine::analysis;
        MainWindow w;
        QVERIFY(w.openModel(qs::app::bundledSamplePath(), false));
        QVERIFY(waitForRun(w));
        const auto& sg = w.document()->model().main();
        const int rows = static_cast<int>(sg.inputs.size() + sg.operators.size());
        // The RMSE of the model's output tensor in the last run.
        const auto outputRmse = [&w]() -> double {
            const auto* a = w.lastOutcome()->metrics.analysis.get();
            if (!a || a->tensors.empty()) return std::nan("");
            return a->tensors.back().averaged.rmse;
        };
        const auto runWith = [&w](const QStringList& paths) {
            const auto* before = w.lastOutcome();
            w.setInputFiles(paths);
            return waitForRun(w, before);
        };

        const QString cat = QStringLiteral(QS_SAMPLES_DIR "/images/coral_cat.bmp");
        QVERIFY(runWith({cat}));
        const auto* out = w.lastOutcome();
        QVERIFY2(out->ok(), qPrintable(out->error));
        QCOMPARE(out->request.input.kind, InputSpec::Kind::Files);
        QCOMPARE(out->opsRun, static_cast<int>(sg.operators.size()));
        QCOMPARE(w.layerTable()->model()->rowCount(), rows);
        QVERIFY(out->inputSummary.contains(QStringLiteral("coral_cat.bmp")));
        QVERIFY(out->inputSummary.contains(QStringLiteral("32x32")));
        QVERIFY(out->inputSummary.contains(QStringLiteral("quantization error")));
        QVERIFY(w.statusBar()->currentMessage().contains(out->inputSummary));
        const double catRmse = outputRmse();
        QVERIFY(std::isfinite(catRmse));

        // A folder: a .npy (another image, preprocessed) and the cat image, sorted by name.
        QTemporaryDir tmp;
        const QString folder = tmp.filePath(QStringLiteral("dataset"));
        QVERIFY(QDir().mkpath(folder));
        auto flower =
            qs::engine::preprocess::readImage(QS_SAMPLES_DIR "/images/coral_sunflower.bmp");
        QVERIFY(flower.has_value());
        auto pre = qs::engine::preprocess::preprocess(*flower, {}, w.document()->model(), 0);
        QVERIFY(pre.has_value());
        const QString npy = folder + QStringLiteral("/a_sunflower.npy");
        QVERIFY(qs::engine::writeNpy(npy.toStdString(), pre->input).has_value());
        QVERIFY(QFile::copy(cat, folder + QStringLiteral("/b_cat.bmp")));
        QVERIFY(runWith({npy}));
        QVERIFY2(w.lastOutcome()->ok(), qPrintable(w.lastOutcome()->error));
        const double flowerRmse = outputRmse();
        QVERIFY(std::isfinite(flowerRmse));
        QVERIFY(flowerRmse != catRmse);

        QVERIFY(runWith({folder}));
        out = w.lastOutcome();
        QVERIFY2(out->ok(), qPrintable(out->error));
        QCOMPARE(out->request.input.kind, InputSpec::Kind::Folder);
        QCOMPARE(out->sampleNames,
                 QStringList({QStringLiteral("a_sunflower.npy"), QStringLiteral("b_cat.bmp")}));
        QCOMPARE(out->metrics.analysis->samples, 2);
        QCOMPARE(w.layerTable()->model()->rowCount(), rows);
        // The table shows the metrics averaged over the samples.
        QVERIFY(std::abs(outputRmse() - (catRmse + flowerRmse) / 2) <=
                1e-9 * std::max(1.0, catRmse));

        // Bad inputs: the run fails with one line naming the problem; the window lives on.
        const auto expectError = [&](const QStringList& paths, const QString& part) {
            if (!runWith(paths)) return false;
            const auto* o = w.lastOutcome();
            if (o->ok() || o->error.contains(QLatin1Char('\n')) || !o->error.contains(part)) {
                qWarning() << "error was:" << o->error;
                return false;
            }
            return w.statusBar()->currentMessage().contains(o->error);
        };
        const QString bad = tmp.filePath(QStringLiteral("broken.png"));
        QFile f(bad);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("not a png at all");
        f.close();
        QVERIFY(expectError({bad}, QStringLiteral("broken.png")));
        const QString empty = tmp.filePath(QStringLiteral("empty"));
        QVERIFY(QDir().mkpath(empty));
        QVERIFY(expectError({empty}, QStringLiteral("no input samples")));
        qs::engine::TensorValue small(qs::model::DType::Int8, {1, 4, 4, 3});
        const QString wrong = tmp.filePath(QStringLiteral("wrong_shape.npy"));
        QVERIFY(qs::engine::writeNpy(wrong.toStdString(), small).has_value());
        QVERIFY(expectError({wrong}, QStringLiteral("does not match input")));
        // A dataset with one unreadable file fails as a whole.
        QVERIFY(QFile::copy(bad, folder + QStringLiteral("/c_broken.png")));
        QVERIFY(expectError({folder}, QStringLiteral("c_broken.png")));

        QVERIFY(runWith({}));  // back to seeded random
        QVERIFY(w.lastOutcome()->ok());
        QCOMPARE(w.layerTable()->model()->rowCount(), rows);
    }

    // The error analysis runs the integer engine once, and that run is the outcome's: op
    // counts, the op a run stops at, and which tensors have values agree with the model (every
    // graph input and every output of an op before the stop), and the metrics are there.
    void analysisRunIsTheOutcomesRun() {
        MainWindow w;
        for (const char* name :
             {"resnet8_cifar_int8", "mobilenet_v1_0.25_128_quant", "seanet_transpose_conv0"}) {
            QVERIFY2(w.openModel(conformance(name), false), name);
            QVERIFY2(waitForRun(w), name);
            const auto* out = w.lastOutcome();
            QVERIFY2(out->ok(), qPrintable(out->error));
            const auto& sg = w.document()->model().main();
            QCOMPARE(out->opsTotal, static_cast<int>(sg.operators.size()));
            const int stop = out->stoppedAt;
            QCOMPARE(out->opsRun, stop < 0 ? out->opsTotal : stop);
            QVERIFY(out->metrics.analysis != nullptr);
            QCOMPARE(out->metrics.analysis->quantized_run.ops_run, out->opsRun);
            std::vector<char> expected(sg.tensors.size(), 0);
            for (const auto t : sg.inputs) expected[static_cast<size_t>(t.value)] = 1;
            for (int op = 0; op < out->opsRun; ++op)
                for (const auto t : sg.operators[static_cast<size_t>(op)].outputs)
                    expected[static_cast<size_t>(t.value)] = 1;
            QVERIFY2(out->produced == expected, name);
            if (stop < 0) {
                QVERIFY2(!out->metrics.empty(), name);
            } else {
                QCOMPARE(stop, 0);  // seanet_transpose_conv0: dynamic output shape
                QVERIFY(!out->warnings.isEmpty());
                QVERIFY(out->warnings.front().contains(QStringLiteral("TRANSPOSE_CONV")));
            }
        }
    }

    // A paired float model the analysis cannot run (another input shape): the integer run
    // stands, and the status bar says why there are no metric values.
    void analysisErrorIsShownWithTheRun() {
        MainWindow w;
        QVERIFY(w.openModel(conformance("resnet8_cifar_int8"), false));
        QVERIFY(waitForRun(w));
        const auto* before = w.lastOutcome();
        QVERIFY(w.openFloatModel(conformance("mobilenet_v1_0.25_224_float"), false));
        QVERIFY(waitForRun(w, before));
        const auto* out = w.lastOutcome();
        QVERIFY(out->ok());
        QCOMPARE(out->opsRun, out->opsTotal);
        QVERIFY(out->metrics.empty());
        QVERIFY(out->analysisError.contains(QStringLiteral("[1,224,224,3]")));
        QVERIFY(w.statusBar()->currentMessage().contains(QStringLiteral("no error analysis")));
        QVERIFY(w.statusBar()->currentMessage().contains(out->analysisError));
    }

    void opensAndRunsEveryConformanceModel() {
        MainWindow w;
        QDirIterator it(QStringLiteral(QS_CONFORMANCE_DIR), {QStringLiteral("model.tflite")},
                        QDir::Files, QDirIterator::Subdirectories);
        int count = 0, complete = 0;
        while (it.hasNext()) {
            const QString path = it.next();
            QVERIFY2(w.openModel(path, false), qPrintable(path));
            QVERIFY2(waitForRun(w), qPrintable(path));
            const auto* out = w.lastOutcome();
            QVERIFY2(out->ok(), qPrintable(path + QStringLiteral(": ") + out->error));
            QCOMPARE(nodeItems(w), expectedNodes(w));
            const auto& g = w.graphPanel()->view()->graph();
            for (const auto& n : g.nodes) {
                if (n.greyed) QVERIFY2(!n.greyReason.isEmpty(), qPrintable(path));
            }
            complete += out->stoppedAt < 0 ? 1 : 0;
            ++count;
        }
        qInfo("%d conformance models opened and run, %d ran to the end", count, complete);
        QVERIFY(count >= 20);
    }
};

QTEST_MAIN(MainWindowTest)
#include "main_window_test.moc"
