// The quantization playground, workshop mode and the guided lessons in the main window,
// headless: pure-rounding RMSE on a uniform distribution, dragging the zero point and a range
// end with the mouse updates the metrics, clipping counts, grid lines vs band, per-tensor vs
// per-channel on the sample's real weights, workshop mode's larger fonts (persisted), every
// lesson loads and every claim of its steps holds; screenshots saved and checked not blank.
#include <qcustomplot.h>
#include <QApplication>
#include <QDir>
#include <QDockWidget>
#include <QLabel>
#include <QSet>
#include <QStandardPaths>
#include <QTextBrowser>
#include <QtTest>
#include <cmath>

#include "app/gui/lessons.h"
#include "app/gui/main_window.h"
#include "app/gui/model_document.h"
#include "app/gui/playground_controller.h"
#include "main_window_testing.h"
#include "support/screenshots.h"
#include "widgets/playground/lesson_panel.h"
#include "widgets/playground/playground_view.h"

using qs::app::MainWindow;
using qs::app::PlaygroundController;
namespace pg = qs::engine::playground;

namespace {

constexpr double kOneOverSqrt12 = 0.28867513459481287;

using qs::test::distinctColours;
using qs::test::screenshotDir;
using qs::test::waitForRun;

void saveAndCheck(QWidget* widget, const QString& name) {
    const QImage image = widget->grab().toImage();
    QVERIFY(!image.isNull());
    QVERIFY(image.save(screenshotDir() + QStringLiteral("/%1.png").arg(name)));
    QVERIFY2(distinctColours(image) > 40, qPrintable(name + QStringLiteral(" looks blank")));
}

void mouse(QWidget* target, QEvent::Type type, QPointF at, Qt::MouseButtons buttons) {
    QMouseEvent e(type, at, target->mapToGlobal(at), Qt::LeftButton, buttons, Qt::NoModifier);
    QApplication::sendEvent(target, &e);
}

// Presses at `from` on the value plot, moves to `to` in steps, releases.
void drag(QCustomPlot* plot, QPointF from, QPointF to) {
    mouse(plot, QEvent::MouseButtonPress, from, Qt::LeftButton);
    for (int i = 1; i <= 5; ++i)
        mouse(plot, QEvent::MouseMove, from + (to - from) * (i / 5.0), Qt::LeftButton);
    mouse(plot, QEvent::MouseButtonRelease, to, Qt::NoButton);
}

double sumOf(const QVector<double>& v) {
    double s = 0;
    for (double x : v) s += x;
    return s;
}

}  // namespace

class PlaygroundTest : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        QSettings().clear();
    }

    // Uniform values on [-1, 1], int8 symmetric min/max: both range ends are (nearly) levels, no
    // value clips, so rmse/scale is 1/sqrt(12). 100000 values: the estimate's standard deviation
    // is 0.447 / sqrt(N) relative = 0.0004 LSB (see tests/engine/playground_test.cpp); 0.002 is
    // five of them.
    void uniformGivesPureRoundingRmse() {
        MainWindow w;
        auto* c = w.playground();
        QVERIFY(c->setSource(static_cast<int>(pg::Distribution::Uniform)));
        c->setDType(qs::model::DType::Int8);
        c->setSymmetric(true);
        QCOMPARE(c->evaluation().total.num_elements, 100000.0);
        QVERIFY(std::fabs(c->evaluation().total.rmse_lsb - kOneOverSqrt12) < 0.002);
        QCOMPARE(c->evaluation().clipped_low + c->evaluation().clipped_high, 0);
        QCOMPARE(c->frame().total.clipped, 0);
        QVERIFY(c->frame().gridAligned);  // 255 levels: one bin per level
        QVERIFY(w.playgroundView()->metricsLabel()->text().contains(QStringLiteral("0.28")));
    }

    void draggingTheZeroPointAndARangeEndUpdatesMetrics() {
        MainWindow w;
        w.resize(1400, 1000);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        w.playgroundDock()->show();
        w.playgroundDock()->raise();
        auto* c = w.playground();
        auto* view = w.playgroundView();
        QVERIFY(c->setSource(static_cast<int>(pg::Distribution::Normal)));
        c->setDType(qs::model::DType::UInt8);
        c->setSymmetric(false);
        QVERIFY(QTest::qWaitFor([&] { return view->valuePlot()->axisRect()->width() > 100; }));
        view->valuePlot()->replot();
        const auto before = c->evaluation().total;
        const qint64 zp = c->shownGrid().zero_point;
        const QString text = view->metricsLabel()->text();
        QCOMPARE(c->frame().total.clipped, 0);
        // Drag inside the band to the right by a quarter of it: the grid moves right, zp falls.
        auto* plot = view->valuePlot();
        const double y = plot->axisRect()->center().y();
        const double lo = view->pixelForValue(c->frame().representableMin);
        const double hi = view->pixelForValue(c->frame().representableMax);
        drag(plot, {(lo + hi) / 2, y}, {(lo + hi) / 2 + (hi - lo) / 4, y});
        QVERIFY2(c->shownGrid().zero_point < zp - 40,
                 qPrintable(QStringLiteral("zp %1 -> %2").arg(zp).arg(c->shownGrid().zero_point)));
        QVERIFY(c->evaluation().total.rmse > before.rmse * 2);  // the low tail now clips
        QVERIFY(c->evaluation().clipped_low > 0);
        QVERIFY(view->metricsLabel()->text() != text);
        // The clipped bars hold exactly the clipped values.
        QCOMPARE(static_cast<qint64>(sumOf(c->frame().clipped)),
                 c->evaluation().clipped_low + c->evaluation().clipped_high);
        saveAndCheck(view, QStringLiteral("playground_zero_point_dragged"));

        // Setting the zero point (the spin box path) updates too.
        QVERIFY(c->setZeroPoint(zp));
        QVERIFY(std::fabs(c->evaluation().total.rmse - before.rmse) < 1e-12);

        // Drag the high end inwards to the middle of the data: the top half clips.
        view->valuePlot()->replot();
        const double hi2 = view->pixelForValue(c->frame().representableMax);
        drag(plot, {hi2, y}, {view->pixelForValue(0.0), y});
        QVERIFY(c->frame().representableMax < 0.3);
        QVERIFY(c->evaluation().clipped_high > 30000);  // about half of N(0, 1)
        QVERIFY(c->evaluation().clippedPct() > 30);
    }

    void clippingIsCounted() {
        MainWindow w;
        auto* c = w.playground();
        QVERIFY(c->setSource(static_cast<int>(pg::Distribution::Uniform)));
        c->setDType(qs::model::DType::Int8);
        c->setSymmetric(false);
        // zp = qmax: the range is [(qmin - qmax) s, 0]; every positive value clips, about half.
        QVERIFY(c->setZeroPoint(127));
        QVERIFY(std::fabs(c->evaluation().clippedPct() - 50.0) < 1.0);
        QCOMPARE(c->evaluation().clipped_low, 0);
        QCOMPARE(c->frame().total.clipped, c->evaluation().clipped_high);
        QVERIFY(std::fabs(c->frame().total.clippedPct - c->evaluation().clippedPct()) < 1e-9);
        // Calibrating again clears it.
        QVERIFY(c->calibrate(pg::Calibration::MinMax));
        QCOMPARE(c->evaluation().clipped_high, 0);
        // Percentile calibration on outliers clips a few.
        QVERIFY(c->setSource(static_cast<int>(pg::Distribution::NormalWithOutliers)));
        QVERIFY(c->calibrate(pg::Calibration::Percentile));
        QVERIFY(c->evaluation().clipped_low + c->evaluation().clipped_high > 0);
        QVERIFY(c->evaluation().clippedPct() < 0.1);
    }

    void gridLinesWhenFewElseBand() {
        MainWindow w;
        w.resize(1400, 1000);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        w.playgroundDock()->raise();
        auto* c = w.playground();
        auto* view = w.playgroundView();
        QVERIFY(c->setSource(static_cast<int>(pg::Distribution::Uniform)));
        c->setDType(qs::model::DType::Int8);
        QVERIFY(QTest::qWaitFor([&] { return view->valuePlot()->axisRect()->width() > 100; }));
        // Zoomed in (the wheel does this) to a few dozen levels: one line per level.
        view->valuePlot()->xAxis->setRange(-0.1, 0.1);
        QVERIFY(view->gridLinesShown());
        saveAndCheck(view, QStringLiteral("playground_int8_zoomed_lines"));
        // An edit keeps the zoom (same view); lines follow the new scale.
        QVERIFY(c->setScale(c->shownGrid().scale * 2));
        QVERIFY(view->gridLinesShown());
        c->setDType(qs::model::DType::Int16);
        QVERIFY(!view->gridLinesShown());
        QVERIFY(!c->frame().gridAligned);  // 65536 levels: plain bins
        saveAndCheck(view, QStringLiteral("playground_int16_band"));
    }

    void perChannelOnRealWeights() {
        MainWindow w;
        w.resize(1500, 1100);
        w.show();
        QVERIFY(w.openModel(qs::app::bundledSamplePath(), false));
        QVERIFY(waitForRun(w));
        QVERIFY(w.selectTensorByName(
            QStringLiteral("model/conv2d_5/BiasAdd;model/conv2d_5/Conv2D;"
                           "model/conv2d_5/BiasAdd/ReadVariableOp/resource1")));
        auto* c = w.playground();
        QVERIFY(c->setSource(PlaygroundController::kWeightsSource));
        QVERIFY2(c->error().isEmpty(), qPrintable(c->error()));
        QVERIFY(c->perChannel());
        QCOMPARE(static_cast<int>(c->grids().size()), 32);
        QVERIFY(c->grids()[0].symmetric);
        QVERIFY(std::isinf(c->evaluation().total.sqnr_db));  // the file's own grid: exact
        QVERIFY(std::isfinite(c->otherSqnrDb()));
        c->setPerChannel(false);
        QCOMPARE(static_cast<int>(c->grids().size()), 1);
        QVERIFY(std::isfinite(c->evaluation().total.sqnr_db));
        QCOMPARE(static_cast<int>(c->evaluation().channels.size()), 32);
        QCOMPARE(c->frame().channelSqnr.size(), 32);
        QVERIFY(c->frame().hasChannels);
        // The float reference of the selected tensor with its file grid.
        QVERIFY(c->setSource(PlaygroundController::kTensorSource));
        QCOMPARE(c->grids().size(), size_t{1});
        QCOMPARE(c->evaluation().total.num_elements, 8192.0);
        // Selecting another tensor while the panel is hidden (tensor views raised) defers the
        // reload until it is shown.
        w.tensorViewsDock()->raise();
        QTRY_VERIFY(w.playgroundView()->visibleRegion().isEmpty());
        QVERIFY(w.selectTensorByName(QStringLiteral("Identity_int8")));
        QCOMPARE(c->evaluation().total.num_elements, 8192.0);
        w.playgroundDock()->raise();
        QTRY_COMPARE(c->evaluation().total.num_elements, 10.0);
        // The per-channel weights view, for a look.
        QVERIFY(w.selectTensorByName(
            QStringLiteral("model/conv2d_5/BiasAdd;model/conv2d_5/Conv2D;"
                           "model/conv2d_5/BiasAdd/ReadVariableOp/resource1")));
        QVERIFY(c->setSource(PlaygroundController::kWeightsSource));
        c->setChannel(5);
        w.playgroundDock()->raise();
        QTest::qWait(50);
        saveAndCheck(&w, QStringLiteral("playground_weights_per_channel"));
        // Nothing selected: the tensor sources explain what to do, no crash.
        MainWindow empty;
        QVERIFY(!empty.playground()->setSource(PlaygroundController::kTensorSource));
        QVERIFY(!empty.playground()->error().isEmpty());
        QVERIFY(!empty.playground()->frame().error.isEmpty());
    }

    void workshopModeEnlargesFontsAndPersists() {
        MainWindow w;
        w.show();
        QVERIFY(w.openModel(qs::app::bundledSamplePath(), false));
        QVERIFY(waitForRun(w));
        const double appBefore = QApplication::font().pointSizeF();
        const double plotBefore =
            w.playgroundView()->valuePlot()->xAxis->tickLabelFont().pointSizeF();
        const double windowBefore = w.font().pointSizeF();
        w.setWorkshopMode(true);
        QVERIFY(w.workshopMode());
        QVERIFY(QApplication::font().pointSizeF() >= appBefore * 1.5);
        QVERIFY2(w.font().pointSizeF() > windowBefore * 1.4,
                 qPrintable(QStringLiteral("%1 -> %2 (app %3 -> %4)")
                                .arg(windowBefore)
                                .arg(w.font().pointSizeF())
                                .arg(appBefore)
                                .arg(QApplication::font().pointSizeF())));
        QVERIFY(w.playgroundView()->valuePlot()->xAxis->tickLabelFont().pointSizeF() >
                plotBefore * 1.4);
        QCOMPARE(QApplication::palette().color(QPalette::Window), QColor(Qt::white));
        QVERIFY(QSettings().value(QStringLiteral("view/workshopMode")).toBool());
        w.resize(1600, 1000);
        QTest::qWait(50);
        saveAndCheck(&w, QStringLiteral("workshop_mode"));
        {
            // A new window starts in workshop mode (persisted).
            MainWindow again;
            QVERIFY(again.workshopMode());
        }
        w.setWorkshopMode(false);
        QCOMPARE(QApplication::font().pointSizeF(), appBefore);
        QCOMPARE(w.playgroundView()->valuePlot()->xAxis->tickLabelFont().pointSizeF(), plotBefore);
        QVERIFY(!QSettings().value(QStringLiteral("view/workshopMode")).toBool());
    }

    void everyLessonLoadsAndItsClaimsHold() {
        auto lessons = qs::app::bundledLessons();
        QVERIFY2(lessons.has_value(), lessons ? "" : lessons.error().message.c_str());
        QVERIFY(lessons->size() >= 3);
        // The user's saved defaults, which the lessons' setups must not replace.
        {
            MainWindow defaults;
            defaults.setProfile(qs::engine::RoundingProfile::Xnnpack);
            defaults.setErrorMode(qs::app::ErrorMode::Accumulated);
        }
        MainWindow w;
        w.resize(1600, 1000);
        w.show();
        w.setSeed(5);  // a lesson brings the input back to seed 0
        auto* runner = w.lessons();
        QCOMPARE(runner->lessons().size(), lessons->size());
        for (int i = 0; i < lessons->size(); ++i) {
            QString error;
            QVERIFY2(runner->start(i, &error), qPrintable(error));
            QVERIFY(w.document());
            // Every tensor the lesson names exists in the sample.
            const auto& sg = w.document()->model().main();
            for (const QString& t : (*lessons)[i].tensors) {
                bool found = false;
                for (const auto& tensor : sg.tensors)
                    found = found || QString::fromStdString(tensor.name) == t;
                QVERIFY2(found,
                         qPrintable(QStringLiteral("lesson %1: no tensor %2").arg(i).arg(t)));
            }
            const auto& lesson = (*lessons)[i];
            for (int s = 0; s < lesson.steps.size(); ++s) {
                if (s > 0) runner->goToStep(s);
                QVERIFY2(QTest::qWaitFor([&] { return runner->ready(); }, 120000),
                         qPrintable(QStringLiteral("lesson %1 step %2 not ready").arg(i).arg(s)));
                QVERIFY(w.lessonDock()->isVisible());
                const QStringList failures = qs::app::checkClaims(lesson.steps[s], w);
                QVERIFY2(failures.isEmpty(),
                         qPrintable(QStringLiteral("lesson %1 step %2: %3")
                                        .arg(i + 1)
                                        .arg(s + 1)
                                        .arg(failures.join(QStringLiteral("; ")))));
                if (s == 1) {
                    QTest::qWait(50);
                    saveAndCheck(&w, QStringLiteral("lesson_%1_step_2").arg(i + 1));
                }
            }
        }
        // Going back re-applies the accumulated setup of the earlier step.
        QString error;
        QVERIFY(runner->start(0, &error));
        QVERIFY(QTest::qWaitFor([&] { return runner->ready(); }, 120000));
        runner->goToStep(4);
        QVERIFY(QTest::qWaitFor([&] { return runner->ready(); }, 120000));
        QCOMPARE(w.errorMode(), qs::app::ErrorMode::Accumulated);
        runner->goToStep(1);
        QVERIFY(QTest::qWaitFor([&] { return runner->ready(); }, 120000));
        QCOMPARE(w.errorMode(), qs::app::ErrorMode::Local);
        QVERIFY(qs::app::checkClaims((*lessons)[0].steps[1], w).isEmpty());
        {
            MainWindow next;  // the next start: the user's defaults, not the last lesson's
            QCOMPARE(next.profile(), qs::engine::RoundingProfile::Xnnpack);
            QCOMPARE(next.errorMode(), qs::app::ErrorMode::Accumulated);
            next.setProfile(qs::engine::RoundingProfile::Reference);
        }
        // A claim that does not hold, or names an unknown metric or tensor, is reported.
        auto bad = qs::app::parseLessons(R"({"lessons": [{"title": "t", "steps": [{"title": "s",
            "claims": [{"kind": "metric", "tensor": "Identity_int8", "metric": "rmse_lsb",
                        "min": 100, "max": 200},
                       {"kind": "playground", "metric": "no_such_metric", "min": 0},
                       {"kind": "profile_diff", "tensor": "nope", "a": "reference",
                        "b": "xnnpack"}]}]}]})");
        QVERIFY(bad.has_value());
        QCOMPARE(qs::app::checkClaims(bad->front().steps.front(), w).size(), 3);
        // Bad lesson files fail with a message.
        QVERIFY(!qs::app::parseLessons("{"));
        QVERIFY(!qs::app::parseLessons(R"({"lessons": [{"title": "x", "steps": []}]})"));
        QVERIFY(!runner->start(99, &error));
        QVERIFY(!error.isEmpty());
    }
};

QTEST_MAIN(PlaygroundTest)
#include "playground_test.moc"
