// The tensor views in the main window, headless: on resnet8_cifar_int8 (conformance input,
// reference profile = TFLM's arithmetic) the views of tensor 26 (CONV_2D output [1,16,16,32])
// are checked against TFLM's golden values; switching mode and profile updates them; every
// plot exports; screenshots of each view are saved and checked non-blank; a timing report of
// switching to the largest tensor of mobilenet_v2 (1.2 M elements). Histograms and density
// are made when their tab is first shown; that tab then shows the tensor selected last.
#include <qcustomplot.h>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QSet>
#include <QSlider>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QtTest>
#include <cmath>

#include "app/gui/main_window.h"
#include "app/gui/model_document.h"
#include "app/gui/tensor_view_data.h"
#include "engine/analysis/tensor_views.h"
#include "engine/io/npy.h"
#include "main_window_testing.h"
#include "support/screenshots.h"
#include "widgets/graph/graph_panel.h"
#include "widgets/graph/graph_view.h"
#include "widgets/plots/channel_bars_view.h"
#include "widgets/plots/heatmap_view.h"
#include "widgets/plots/histogram_view.h"
#include "widgets/plots/plot_export.h"
#include "widgets/plots/scatter_view.h"
#include "widgets/plots/tensor_views_panel.h"

using qs::app::MainWindow;
using qs::widgets::MapQuantity;

using qs::test::distinctColours;
using qs::test::screenshotDir;
using qs::test::selectTensor;
using qs::test::waitForRun;

namespace {

QString conformanceDir(const char* name) {
    return QStringLiteral(QS_CONFORMANCE_DIR "/%1").arg(QLatin1String(name));
}

double barSum(const QCPBars* bars) {
    double sum = 0;
    for (auto it = bars->data()->constBegin(); it != bars->data()->constEnd(); ++it)
        sum += it->value;
    return sum;
}

// Saves `widget` under the screenshot dir and checks it is not one flat fill.
void shoot(QWidget* widget, const QString& name, int minColours = 40) {
    const QImage image = widget->grab().toImage();
    QVERIFY(!image.isNull());
    QVERIFY(image.save(screenshotDir() + QStringLiteral("/tensor_views_%1.png").arg(name)));
    QVERIFY2(distinctColours(image, 2) > minColours,
             qPrintable(name + QStringLiteral(" looks blank")));
}

constexpr int kTensor = 26;  // op 4 CONV_2D s2 RELU: [1,16,16,32], per-channel weights

// The engine's planes of `tensor` in the last run, computed afresh.
qs::engine::analysis::TensorPlanes freshPlanes(const MainWindow& w, int tensor) {
    const auto& pair = w.lastOutcome()->metrics.values->at(tensor);
    auto p = qs::engine::analysis::tensorPlanes(
        pair.quant, w.document()->model().main().tensors[static_cast<size_t>(tensor)].quantization,
        pair.reference);
    return p ? std::move(*p) : qs::engine::analysis::TensorPlanes{};
}

// Bar heights by key (the clipped and the inside bars share the keys of one histogram).
std::vector<double> barValues(const QCPBars* bars) {
    std::vector<double> out;
    for (auto it = bars->data()->constBegin(); it != bars->data()->constEnd(); ++it)
        out.push_back(it->value);
    return out;
}

}  // namespace

class TensorViewsTest : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        QSettings().clear();
    }

    void viewsMatchGoldenTensor() {
        MainWindow w;
        w.resize(1440, 1000);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        const QString dir = conformanceDir("resnet8_cifar_int8");
        w.setProfile(qs::engine::RoundingProfile::Reference);
        QVERIFY(w.openModel(dir + QStringLiteral("/model.tflite"), false));
        QVERIFY(waitForRun(w));
        w.setInputFiles({dir + QStringLiteral("/inputs/input_0.npy")});
        QVERIFY(waitForRun(w));
        QVERIFY(selectTensor(w, kTensor));
        auto* panel = w.tensorViews();
        QVERIFY(panel->data());
        QCOMPARE(panel->data()->tensorName,
                 QString::fromStdString(w.document()->model().main().tensors[kTensor].name));

        // TFLM's int8 values of this tensor (the reference profile reproduces them exactly).
        auto golden =
            qs::engine::readNpy((dir + QStringLiteral("/tflm/t%1.npy").arg(kTensor)).toStdString());
        QVERIFY(golden);
        const auto& q = w.document()->model().main().tensors[kTensor].quantization;
        int lo = 127, hi = -128;
        for (int8_t v : golden->data<int8_t>())
            lo = std::min<int>(lo, v), hi = std::max<int>(hi, v);
        auto deq = [&](int v) {
            return static_cast<double>(
                static_cast<float>(static_cast<double>(q.scales[0]) * (v - q.zeroPoint(0))));
        };

        auto* heat = panel->heatmap();
        heat->setTiled(false);
        heat->setPerTileRange(false);
        heat->setQuantity(MapQuantity::Dequantized);
        // The map's colour range is the tensor's min/max.
        QCOMPARE(heat->colorMap()->dataRange().lower, deq(lo));
        QCOMPARE(heat->colorMap()->dataRange().upper, deq(hi));
        heat->setQuantity(MapQuantity::Reference);
        QCOMPARE(heat->colorMap()->dataRange().lower, panel->data()->range[0].min);
        QCOMPARE(heat->colorMap()->dataRange().upper, panel->data()->range[0].max);
        // One 16 x 16 map per channel; slider and spin box cover the 32 channels.
        QCOMPARE(heat->colorMap()->data()->keySize(), 16);
        QCOMPARE(heat->colorMap()->data()->valueSize(), 16);
        QCOMPARE(heat->channelSlider()->minimum(), 0);
        QCOMPARE(heat->channelSlider()->maximum() + 1, 32);
        QCOMPARE(heat->channelSpin()->maximum() + 1, 32);
        heat->setChannel(31);
        QCOMPARE(heat->channelSpin()->value(), 31);
        // Hover text: coordinates, float, int, dequantized, error.
        const QString hover = heat->describe(5, 2, 3);
        QVERIFY2(hover.contains(QStringLiteral("[0, 2, 3, 5]")), qPrintable(hover));
        for (const char* word : {"float", "int", "dequantized", "error", "LSB"})
            QVERIFY2(hover.contains(QLatin1String(word)), qPrintable(hover));
        // The int value shown is TFLM's (tensor index of [0, 2, 3, 5] = (2 * 16 + 3) * 32 + 5).
        const int flat = (2 * 16 + 3) * 32 + 5;
        QVERIFY2(hover.contains(QStringLiteral("int %1 ").arg(golden->data<int8_t>()[flat])),
                 qPrintable(hover));
        // Tiled: every channel in one grid; a cell maps back to its channel.
        heat->setQuantity(MapQuantity::Error);
        heat->setTiled(true);
        int ch = -1, row = -1, col = -1;
        QVERIFY(heat->cellAt(0, 0, &ch, &row, &col));
        QCOMPARE(ch, 0);
        QVERIFY(heat->colorMap()->data()->keySize() > 16);

        // Histograms: every element counted once (a hidden tab draws when shown).
        panel->tabs()->setCurrentIndex(2);
        auto* hist = panel->histograms();
        const double n = 16 * 16 * 32;
        QCOMPARE(barSum(hist->valueBars()) + barSum(hist->clippedBars()), n);
        QCOMPARE(barSum(hist->errorBars()), n);
        // One bar per channel; the weights of op 4 have 32 output channels.
        panel->tabs()->setCurrentIndex(1);
        auto* bars = panel->channelBars();
        QCOMPARE(bars->metricBars()->data()->size(), 32);
        QVERIFY(!bars->weightScalePlot()->isHidden());
        QCOMPARE(panel->data()->weightScale.size(), 32);

        // Screenshots of every view.
        auto* tabs = panel->tabs();
        heat->setTiled(false);
        heat->setQuantity(MapQuantity::ErrorLsb);
        tabs->setCurrentIndex(0);
        shoot(panel, QStringLiteral("heatmap_channel"));
        heat->setTiled(true);
        shoot(panel, QStringLiteral("heatmap_tiled"));
        heat->setQuantity(MapQuantity::Reference);
        heat->setPerTileRange(true);
        shoot(panel, QStringLiteral("heatmap_tiled_per_tile"));
        tabs->setCurrentIndex(1);
        shoot(panel, QStringLiteral("channels"));
        tabs->setCurrentIndex(2);
        shoot(panel, QStringLiteral("histograms"));
        tabs->setCurrentIndex(3);
        shoot(panel, QStringLiteral("scatter_saturation"));
        tabs->setCurrentIndex(0);
        shoot(&w, QStringLiteral("main_window"));

        // Local error mode and another profile feed the views too.
        const auto before = panel->data();
        const auto* run = w.lastOutcome();
        w.setErrorMode(qs::app::ErrorMode::Local);
        QVERIFY(waitForRun(w, run));
        QVERIFY(panel->data() && panel->data() != before);
        QCOMPARE(panel->data()->tensorName, before->tensorName);
        run = w.lastOutcome();
        w.setProfile(qs::engine::RoundingProfile::Xnnpack);
        QVERIFY(waitForRun(w, run));
        QVERIFY(panel->data());
        QCOMPARE(panel->data()->channels, 32);
        QCOMPARE(w.lastOutcome()->request.profile, qs::engine::RoundingProfile::Xnnpack);
    }

    // The heatmap tab is shown: switching computes no histogram or density; the tabs that
    // show them, opened later, draw the tensor selected last, bin for bin as the engine
    // computes them. Reused buffers hold each tensor's own values.
    void lazyTabsAreRightWhenFirstShown() {
        MainWindow w;
        w.resize(1440, 1000);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QVERIFY(w.openModel(conformanceDir("resnet8_cifar_int8") + QStringLiteral("/model.tflite"),
                            false));
        QVERIFY(waitForRun(w));
        auto* panel = w.tensorViews();
        panel->tabs()->setCurrentIndex(0);
        // Tensors of different sizes, so a reused buffer shrinks and grows.
        const int order[] = {kTensor, 22, kTensor, 30, 36, 22};
        for (int tensor : order) {
            QVERIFY(selectTensor(w, tensor));
            QVERIFY(panel->data());
            QVERIFY(!panel->data()->histograms.ready());
            QVERIFY(!panel->data()->density.ready());
            const auto fresh = freshPlanes(w, tensor);
            QCOMPARE(panel->data()->elements(), fresh.size());
            for (size_t k = 0; k < qs::engine::analysis::kPlanes; ++k)
                QVERIFY(std::equal(fresh.planes[k].begin(), fresh.planes[k].end(),
                                   panel->data()->planes[k].begin()));
            QVERIFY(std::equal(fresh.stored.begin(), fresh.stored.end(),
                               panel->data()->stored.begin()));
        }
        const int last = order[std::size(order) - 1];
        const auto fresh = freshPlanes(w, last);
        const auto values = qs::engine::analysis::valueHistogram(fresh);
        const auto errors = qs::engine::analysis::errorHistogram(fresh);
        const auto density = qs::engine::analysis::referenceVsDequantized(fresh);

        panel->tabs()->setCurrentIndex(2);
        QVERIFY(panel->data()->histograms.ready());
        auto* hist = panel->histograms();
        const auto inside = barValues(hist->valueBars());
        const auto clipped = barValues(hist->clippedBars());
        QCOMPARE(inside.size(), values.histogram.counts.size());
        for (size_t b = 0; b < inside.size(); ++b)
            QCOMPARE(inside[b] + clipped[b], static_cast<double>(values.histogram.counts[b]));
        const auto errorBars = barValues(hist->errorBars());
        QCOMPARE(errorBars.size(), errors.counts.size());
        for (size_t b = 0; b < errorBars.size(); ++b)
            QCOMPARE(errorBars[b], static_cast<double>(errors.counts[b]));
        QCOMPARE(barSum(hist->errorBars()), static_cast<double>(fresh.size()));

        QVERIFY(!panel->data()->density.ready());
        panel->tabs()->setCurrentIndex(3);
        QVERIFY(panel->data()->density.ready());
        auto* cells = panel->scatter()->density()->data();
        QCOMPARE(cells->keySize(), density.n);
        double sum = 0;
        for (int y = 0; y < density.n; ++y)
            for (int x = 0; x < density.n; ++x) {
                const int c = density.counts[static_cast<size_t>(y * density.n + x)];
                const double drawn = cells->cell(x, y);
                QCOMPARE(std::isnan(drawn) ? 0.0 : drawn, static_cast<double>(c));
                sum += c;
            }
        QCOMPARE(sum, static_cast<double>(fresh.size()));
    }

    void everyPlotExports() {
        MainWindow w;
        w.resize(1440, 1000);
        w.show();
        QVERIFY(w.openModel(conformanceDir("resnet8_cifar_int8") + QStringLiteral("/model.tflite"),
                            false));
        QVERIFY(waitForRun(w));
        QVERIFY(selectTensor(w, kTensor));
        QTemporaryDir tmp;
        const auto plots = w.tensorViews()->findChildren<QCustomPlot*>();
        QVERIFY(plots.size() >= 8);
        int i = 0;
        for (QCustomPlot* plot : plots) {
            const QString base = tmp.filePath(QStringLiteral("plot%1").arg(i++));
            QString error;
            QVERIFY2(qs::widgets::savePlotImage(plot, base + QStringLiteral(".png"), &error),
                     qPrintable(error));
            QVERIFY2(qs::widgets::savePlotImage(plot, base + QStringLiteral(".svg"), &error),
                     qPrintable(error));
            const auto csv = qs::widgets::plotCsv(plot);
            QVERIFY2(csv, "plot without CSV");
            QVERIFY2(qs::widgets::savePlotCsv(csv, base + QStringLiteral(".csv"), &error),
                     qPrintable(error));
            QFile svg(base + QStringLiteral(".svg"));
            QVERIFY(svg.open(QIODevice::ReadOnly));
            QVERIFY(svg.readAll().contains("<svg"));
            QFile text(base + QStringLiteral(".csv"));
            QVERIFY(text.open(QIODevice::ReadOnly));
            QVERIFY(text.readAll().count('\n') >= 2);
            QVERIFY(QImage(base + QStringLiteral(".png")).width() > 100);
        }
        // Copy puts the image and the CSV on the clipboard.
        qs::widgets::copyPlot(plots.front(), qs::widgets::plotCsv(plots.front()));
        QVERIFY(!QGuiApplication::clipboard()->image().isNull());
        QVERIFY(!QGuiApplication::clipboard()->text().isEmpty());
    }

    void worstSelectsWorstMetric() {
        MainWindow w;
        w.show();
        QVERIFY(w.openModel(qs::app::bundledSamplePath(), false));
        QVERIFY(waitForRun(w));
        QVERIFY(w.selectWorstTensor());
        const auto* out = w.lastOutcome();
        const auto data = w.tensorViews()->data();
        QVERIFY(data);
        // No compared tensor has a lower SQNR than the one shown.
        int column = -1;
        for (size_t c = 0; c < out->metrics.columns.size(); ++c)
            if (out->metrics.columns[c].name == QLatin1String("SQNR")) column = static_cast<int>(c);
        QVERIFY(column >= 0);
        double worst = INFINITY;
        int worstTensor = -1;
        for (const auto& [t, row] : out->metrics.byTensor)
            if (row[static_cast<size_t>(column)] < worst)
                worst = row[static_cast<size_t>(column)], worstTensor = t;
        QCOMPARE(data->tensorName,
                 QString::fromStdString(w.document()->model().main().tensors[worstTensor].name));
    }

    // Timing report: switching between the two largest tensors of mobilenet_v2 (1.2 M
    // elements each) redraws every view; the budget is 50 ms.
    void switchTiming() {
        MainWindow w;
        w.resize(1440, 1000);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QVERIFY(w.openModel(
            conformanceDir("mobilenet_v2_quantized_1x3x224x224") + QStringLiteral("/model.tflite"),
            false));
        QVERIFY(waitForRun(w));
        const auto& sg = w.document()->model().main();
        std::vector<std::pair<int64_t, int>> sizes;
        for (const auto& op : sg.operators)
            for (auto t : op.outputs)
                if (w.lastOutcome()->metrics.values->count(t.value))
                    sizes.push_back(
                        {sg.tensors[static_cast<size_t>(t.value)].numElements(), t.value});
        std::sort(sizes.rbegin(), sizes.rend());
        QVERIFY(sizes.size() >= 2);
        QVERIFY(sizes[0].first >= 1000000);
        std::vector<double> ms;
        for (int i = 0; i < 6; ++i) {
            QVERIFY(selectTensor(w, sizes[static_cast<size_t>(i % 2)].second));
            ms.push_back(w.lastTensorViewsMs());
        }
        // Breakdown of one switch: the data (engine/analysis/tensor_views) and each view's redraw.
        const int big = sizes[0].second;
        QElapsedTimer timer;
        timer.start();
        auto data = qs::app::tensorPlotData(w.document()->model(), 0, big, -1, *w.lastOutcome(),
                                            w.colourMetric());
        QVERIFY(data);
        const double dataMs = static_cast<double>(timer.nsecsElapsed()) / 1e6;
        std::shared_ptr<const qs::widgets::TensorPlotData> shared = std::move(*data);
        auto* panel = w.tensorViews();
        auto time = [&](auto&& f) {
            timer.restart();
            f();
            return static_cast<double>(timer.nsecsElapsed()) / 1e6;
        };
        const double lazyMs = time([&] { panel->setData(shared); });
        const double heatMs = time([&] { panel->heatmap()->redraw(); });
        const double barsMs = time([&] { panel->channelBars()->redraw(); });
        const double histMs = time([&] { panel->histograms()->redraw(); });
        const double scatterMs = time([&] { panel->scatter()->redraw(); });
        const double satMs = time([&] { panel->saturation()->redraw(); });
        std::printf(
            "[ timing ] breakdown: data (planes) %.1f ms; visible views %.1f ms; each view "
            "forced: heatmap %.1f, bars %.1f, histograms (made on first draw) %.1f, scatter "
            "(density made on first draw) %.1f, saturation (tiled) %.1f ms; all views %.1f ms\n",
            dataMs, lazyMs, heatMs, barsMs, histMs, scatterMs, satMs,
            dataMs + heatMs + barsMs + histMs + scatterMs + satMs);
        std::sort(ms.begin(), ms.end());
        std::printf(
            "[ timing ] tensor views (heatmap tab shown), switch to a %lld-element tensor: min "
            "%.1f ms, "
            "median %.1f ms, max %.1f ms (budget 50 ms)\n",
            static_cast<long long>(sizes[0].first), ms.front(), ms[ms.size() / 2], ms.back());
        std::fflush(stdout);
        // A loose bound only: the machine running the tests may be shared.
        QVERIFY(ms.front() < 1000);
        shoot(w.tensorViews(), QStringLiteral("mobilenet_v2_large"));
        // Every tab of the large tensor, its lazily made parts included.
        const char* tabNames[] = {"heatmap", "channels", "histograms", "scatter_saturation"};
        for (int tab = 1; tab < 4; ++tab) {
            panel->tabs()->setCurrentIndex(tab);
            shoot(panel, QStringLiteral("mobilenet_v2_large_%1").arg(QLatin1String(tabNames[tab])));
        }
        panel->tabs()->setCurrentIndex(0);
        panel->heatmap()->setTiled(true);
        shoot(panel, QStringLiteral("mobilenet_v2_large_heatmap_tiled"));
    }
};

QTEST_MAIN(TensorViewsTest)
#include "tensor_views_test.moc"
