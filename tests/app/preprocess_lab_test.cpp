// The preprocessing lab, headless, on MobileNet v1 0.25 224 (uint8, TFLite Metadata with a
// packed labels.txt) and a sample photo: two pipelines that differ only in the resize method
// give a non-zero difference whose maximum is the engine tensors' max |a - b|; top-k equals an
// engine run on the same input, with the model's labels; "Use as input" reruns the main window
// with exactly that input; the Qt decoder fallback; a screenshot that is not blank.
#include <QComboBox>
#include <QDir>
#include <QImageWriter>
#include <QLabel>
#include <QPushButton>
#include <QSet>
#include <QTemporaryDir>
#include <QtTest>
#include <algorithm>
#include <cmath>
#include <numeric>

#include "app/gui/main_window.h"
#include "app/gui/model_document.h"
#include "app/gui/preprocess_lab.h"
#include "engine/analysis/float_twin.h"
#include "engine/executor.h"
#include "engine/preprocess/image.h"
#include "engine/preprocess/pipeline.h"
#include "model/associated_files.h"
#include "support/screenshots.h"
#include "widgets/preprocess/lab_panel.h"
#include "widgets/preprocess/pipeline_column.h"
#include "widgets/preprocess/pixel_image_view.h"

using qs::app::MainWindow;
using qs::app::PreprocessLab;
namespace pp = qs::engine::preprocess;

using qs::test::distinctColours;
using qs::test::screenshotDir;

namespace {

const QString kModel =
    QStringLiteral(QS_CONFORMANCE_DIR "/mobilenet_v1_0.25_224_quant/model.tflite");
const QString kPhoto = QStringLiteral(QS_SAMPLES_DIR "/images/tflsupport_burger.jpg");

bool waitForLab(const PreprocessLab& lab) {
    return QTest::qWaitFor([&] { return !lab.busy() && lab.evaluation(0); }, 120000);
}

}  // namespace

class PreprocessLabTest : public QObject {
    Q_OBJECT
private slots:
    void labelsFromMetadata() {
        MainWindow w;
        QVERIFY(w.openModel(kModel, false));
        const auto& m = w.document()->model();
        QCOMPARE(m.output_info.size(), size_t{1});
        QCOMPARE(m.output_info[0].label_files, std::vector<std::string>{"labels.txt"});
        auto labels = qs::model::outputLabels(m, 0);
        QVERIFY(labels.has_value());
        QCOMPARE(labels->size(), size_t{1001});
        QCOMPARE(labels->at(0), std::string("background"));
        QCOMPARE(labels->at(1), std::string("tench"));
        QVERIFY(!qs::model::readAssociatedFile(m, "missing.txt").has_value());
        // "index label" lines (Coral's format) and plain lines.
        QCOMPARE(qs::model::parseLabels("0  cat\n2: dog\n"),
                 (std::vector<std::string>{"cat", "", "dog"}));
        QCOMPARE(qs::model::parseLabels("3d printer\ncat\n\n"),
                 (std::vector<std::string>{"3d printer", "cat"}));
    }

    void twoResizeMethods() {
        MainWindow w;
        QVERIFY(w.openModel(kModel, false));
        PreprocessLab* lab = w.openPreprocessingLab(kPhoto);
        QVERIFY(lab);
        QVERIFY(lab->decoder().contains(QStringLiteral("engine")));
        QVERIFY(waitForLab(*lab));
        QCOMPARE(lab->panel()->pipelineCount(), 2);
        QCOMPARE(lab->labels().size(), 1001);

        auto pa = lab->pipeline(0), pb = lab->pipeline(1);
        QVERIFY(pa && pb);
        QCOMPARE(pa->method, pp::ResizeMethod::OpencvLinear);
        QCOMPARE(pb->method, pp::ResizeMethod::OpencvArea);
        pp::Pipeline same = *pb;
        same.method = pa->method;
        QVERIFY(same == *pa);  // only the resize method differs

        // The engine's own results for both pipelines.
        const auto& m = w.document()->model();
        auto image = pp::readImage(kPhoto.toStdString());
        QVERIFY(image.has_value());
        auto ra = pp::preprocess(*image, *pa, m, 0), rb = pp::preprocess(*image, *pb, m, 0);
        QVERIFY(ra && rb);
        double maxAbs = 0;
        for (size_t i = 0; i < ra->resized.values.size(); ++i)
            maxAbs = std::max(maxAbs, std::abs(static_cast<double>(ra->resized.values[i]) -
                                               rb->resized.values[i]));
        QVERIFY(maxAbs > 0);
        const auto& diff = lab->difference();
        QVERIFY2(diff.ok(), qPrintable(diff.error));
        QCOMPARE(diff.space, QStringLiteral("pixels"));
        QCOMPARE(diff.width, 224);
        QCOMPARE(diff.height, 224);
        QCOMPARE(diff.maxAbs, maxAbs);
        QCOMPARE(static_cast<double>(*std::max_element(diff.absMax.begin(), diff.absMax.end())),
                 maxAbs);
        QVERIFY(std::isfinite(diff.psnrDb) && diff.psnrDb > 10);
        QCOMPARE(lab->panel()->differenceView()->image().size(), QSize(224, 224));

        // Top-k of pipeline 1 against an engine run on the same input.
        qs::engine::RunOptions ro;
        auto run = qs::engine::run(m, qs::SubgraphId{0}, std::vector{ra->input}, ro);
        QVERIFY(run.has_value());
        const auto outId = m.main().outputs.front();
        const auto& out = run->values[static_cast<size_t>(outId.value)];
        const auto q = out.data<uint8_t>();
        std::vector<int> order(q.size());
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(), [&](int x, int y) { return q[x] > q[y]; });
        const auto* res = lab->result(0);
        QVERIFY(res && res->ok());
        QCOMPARE(res->classes, 1001);
        QCOMPARE(res->top.size(), 5);
        const auto& qp = m.main().tensor(outId).quantization;
        for (int i = 0; i < 5; ++i) {
            QCOMPARE(res->top[i].index, order[static_cast<size_t>(i)]);
            QCOMPARE(res->top[i].label, lab->labels().value(order[static_cast<size_t>(i)]));
            const double expected =
                (q[static_cast<size_t>(order[static_cast<size_t>(i)])] - qp.zero_points[0]) *
                static_cast<double>(qp.scales[0]);
            QVERIFY(std::abs(res->top[i].score - expected) < 1e-6);
        }
        QVERIFY(!res->top[0].label.isEmpty());
        QVERIFY(!lab->panel()->labelsLabel()->text().contains(QStringLiteral("classes")));
        // A chosen labels file of the wrong length is named as such; names follow it.
        QVERIFY(lab->openLabels(QStringLiteral(QS_SAMPLES_DIR "/labels/cifar10_labels.txt")));
        QCOMPARE(lab->labels().size(), 10);
        QVERIFY(lab->panel()->labelsLabel()->text().contains(
            QStringLiteral("the output has 1001 classes")));
        QCOMPARE(lab->result(0)->top[0].label, QString());  // index 934 has no name there
        QVERIFY(
            lab->openLabels(QStringLiteral(QS_SAMPLES_DIR "/labels/coral_imagenet_labels.txt")));
        QVERIFY(lab->result(0)->top[0].label.startsWith(QStringLiteral("cheeseburger")));
        QVERIFY(!lab->panel()->labelsLabel()->text().contains(QStringLiteral("classes")));
        QVERIFY(lab->panel()->column(0)->topLabel()->text().contains(res->top[0].label));
        // The accumulated error summary from engine/analysis.
        QVERIFY(std::isfinite(res->outputSqnrDb));
        QVERIFY(std::isfinite(res->meanRmseLsb));
        QVERIFY(!res->worstLayer.isEmpty());

        // In normalized units the maximum is the same difference divided by the std (this
        // model's input quantization: scale 1/128ish, so not 1).
        auto na = pp::normalizedImage(*ra), nb = pp::normalizedImage(*rb);
        double maxNorm = 0;
        for (size_t i = 0; i < na.values.size(); ++i)
            maxNorm = std::max(maxNorm, std::abs(static_cast<double>(na.values[i]) - nb.values[i]));
        QComboBox* space = lab->panel()->spaceBox();
        space->setCurrentIndex(space->findData(QStringLiteral("normalized")));
        QCOMPARE(lab->difference().space, QStringLiteral("normalized"));
        QCOMPARE(lab->difference().maxAbs, maxNorm);

        // Four pipelines: Pillow and TensorFlow resizes, BGR, [0,1].
        auto specs = lab->panel()->pipelines();
        auto pil = specs[0];
        pil.name = QStringLiteral("training: PIL bilinear + [0,1]");
        pil.method = QStringLiteral("pil-bilinear");
        pil.norm = QStringLiteral("0to1");
        auto tf = specs[0];
        tf.name = QStringLiteral("TF half-pixel, BGR");
        tf.method = QStringLiteral("tf-bilinear-half-pixel");
        tf.order = QStringLiteral("bgr");
        QVERIFY(lab->panel()->addPipeline(pil));
        QVERIFY(lab->panel()->addPipeline(tf));
        QVERIFY(!lab->panel()->addPipeline());  // four at most
        QVERIFY(QTest::qWaitFor([&] { return !lab->busy() && lab->evaluation(3); }, 120000));
        QVERIFY(lab->result(2)->ok() && lab->result(3)->ok());
        QCOMPARE(lab->result(3)->stats.front().channel, QStringLiteral("B"));
        // [0,1] feeds this [-1,1] model values it was not trained on: the stats show it.
        QVERIFY(lab->result(2)->stats.front().min >= 0);
        lab->panel()->setCompare(0, 2);
        QCOMPARE(lab->difference().b, 2);
        QVERIFY(lab->difference().ok());

        // Hovering a pixel shows it in every preview and its difference.
        QTest::mouseMove(lab->panel()->column(0)->view(), QPoint(150, 150));
        emit lab->panel()->column(0)->view()->hovered(QPoint(10, 20));
        const QString hover = lab->panel()->hoverLabel()->text();
        QVERIFY2(hover.contains(QStringLiteral("pixel (10, 20)")) &&
                     hover.contains(QStringLiteral("4: ")) &&
                     hover.contains(QStringLiteral("|1 − 3|")),
                 qPrintable(hover));

        // Screenshot of the lab window: not blank.
        lab->resize(1600, 1050);
        QTest::qWait(50);
        const QImage shot = lab->grab().toImage();
        QVERIFY(shot.save(screenshotDir() + QStringLiteral("/preprocess_lab.png")));
        QVERIFY2(distinctColours(shot) > 500, qPrintable(QString::number(distinctColours(shot))));
    }

    void useAsInput() {
        MainWindow w;
        QVERIFY(w.openModel(kModel, false));
        QVERIFY(QTest::qWaitFor([&] { return w.lastOutcome() && !w.runs()->running(); }, 120000));
        PreprocessLab* lab = w.openPreprocessingLab(kPhoto);
        QVERIFY(waitForLab(*lab));
        const auto* before = w.lastOutcome();
        QTest::mouseClick(lab->panel()->column(1)->useButton(), Qt::LeftButton);
        QVERIFY(QTest::qWaitFor([&] { return w.lastOutcome() != before && !w.runs()->running(); },
                                120000));
        const auto* out = w.lastOutcome();
        QVERIFY2(out->ok(), qPrintable(out->error));
        QCOMPARE(out->request.input.paths, QStringList{kPhoto});
        QVERIFY(out->request.input.pipeline.contains(QStringLiteral("method=opencv-area")));
        QVERIFY(out->inputSummary.contains(QStringLiteral("opencv-area")));
        // The graph input the analysis saw is the lab's pipeline-2 tensor.
        const auto* eval = lab->evaluation(1);
        QVERIFY(eval);
        const int inputTensor = w.document()->model().main().inputs.front().value;
        QVERIFY(out->metrics.values);
        const auto it = out->metrics.values->find(inputTensor);
        QVERIFY(it != out->metrics.values->end());
        QVERIFY(it->second.quant.sameContents(eval->pre.input));
        // The lab follows the window's later profile and float model, and recomputes.
        w.setProfile(qs::engine::RoundingProfile::Xnnpack, false);
        QCOMPARE(lab->profile(), qs::engine::RoundingProfile::Xnnpack);
        QVERIFY(waitForLab(*lab));
        QVERIFY(w.openFloatModel(
            QStringLiteral(QS_CONFORMANCE_DIR "/mobilenet_v1_0.25_224_float/model.tflite"), false));
        QVERIFY(lab->floatModel() != nullptr);
        QVERIFY(waitForLab(*lab));
    }

    void decoderFallbackAndErrors() {
        MainWindow w;
        QVERIFY(w.openModel(kModel, false));
        QTemporaryDir tmp;
        // PPM: not one of the engine decoder's formats; Qt reads it.
        QImage img(40, 30, QImage::Format_RGB888);
        for (int y = 0; y < 30; ++y)
            for (int x = 0; x < 40; ++x) img.setPixel(x, y, qRgb(x * 6, y * 8, 100));
        const QString ppm = tmp.filePath(QStringLiteral("grad.ppm"));
        QVERIFY(img.save(ppm, "PPM"));
        PreprocessLab* lab = w.openPreprocessingLab();
        QVERIFY(lab->openImage(ppm));
        QVERIFY(lab->decoder().contains(QStringLiteral("QImageReader")));
        QVERIFY(waitForLab(*lab));
        QVERIFY(lab->result(0) && lab->result(0)->ok());
        // The decoded pixels are the written ones.
        auto decoded = qs::app::decodeImageFile(ppm);
        QVERIFY(decoded.has_value());
        QCOMPARE(decoded->image.channels, 3);
        QCOMPARE(static_cast<int>(decoded->image.row(2)[3 * 5 + 0]), 5 * 6);
        QCOMPARE(static_cast<int>(decoded->image.row(2)[3 * 5 + 1]), 2 * 8);

        // Not an image: one line, the previous image stays.
        const QString text = tmp.filePath(QStringLiteral("notes.txt"));
        QFile f(text);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("hello");
        f.close();
        QString error;
        QVERIFY(!lab->openImage(text, &error));
        QVERIFY(error.contains(QStringLiteral("notes.txt")));
        QVERIFY(!error.contains(QLatin1Char('\n')));
        QCOMPARE(lab->imagePath(), ppm);

        // A custom normalization without std is the column's one-line error, not a crash.
        auto specs = lab->panel()->pipelines();
        specs[1].norm = QStringLiteral("custom");
        specs[1].mean = QStringLiteral("x");
        lab->panel()->setPipelines(specs);
        QVERIFY(QTest::qWaitFor(
            [&] { return !lab->busy() && lab->result(1) && !lab->result(1)->ok(); }, 120000));
        QVERIFY(lab->result(1)->error.contains(QStringLiteral("mean")));
        QVERIFY(!lab->difference().ok());
    }

    void cancelStopsTheWorker() {
        MainWindow w;
        QVERIFY(w.openModel(kModel, false));
        PreprocessLab* lab = w.openPreprocessingLab();
        QVERIFY(lab->panel()->addPipeline() && lab->panel()->addPipeline());
        QVERIFY(lab->openImage(kPhoto));
        QVERIFY(QTest::qWaitFor([&] { return lab->busy(); }, 10000));
        QVERIFY(lab->panel()->cancelButton()->isVisible());
        QTest::mouseClick(lab->panel()->cancelButton(), Qt::LeftButton);
        QVERIFY(QTest::qWaitFor([&] { return !lab->busy(); }, 60000));
        QVERIFY(!lab->evaluation(0));
        QVERIFY(!lab->panel()->cancelButton()->isVisible());
        // A change computes again.
        lab->panel()->removePipeline(3);
        QVERIFY(waitForLab(*lab));
        QCOMPARE(lab->panel()->pipelineCount(), 3);
        QVERIFY(lab->evaluation(2));
    }

    void zoomIsShared() {
        MainWindow w;
        QVERIFY(w.openModel(kModel, false));
        PreprocessLab* lab = w.openPreprocessingLab(kPhoto);
        QVERIFY(waitForLab(*lab));
        auto* a = lab->panel()->column(0)->view();
        auto* b = lab->panel()->column(1)->view();
        a->resize(300, 300);
        b->resize(300, 300);
        QVERIFY(lab->panel()->zoomLink()->fitting());
        QTest::keyClick(a, Qt::Key_1);
        QCOMPARE(b->scale(), 1.0);
        a->zoomBy(4.0);
        QCOMPARE(b->scale(), 4.0);
        QCOMPARE(lab->panel()->differenceView()->scale(), 4.0);
        QTest::keyClick(b, Qt::Key_Left);
        QCOMPARE(a->toImage(QPointF(150, 150)), b->toImage(QPointF(150, 150)));
        QTest::keyClick(b, Qt::Key_0);
        QVERIFY(lab->panel()->zoomLink()->fitting());
        // Nearest-neighbour magnification: at 8x, the 8x8 block of one pixel is one colour.
        b->resize(224 * 8, 224 * 8);
        QTest::keyClick(b, Qt::Key_1);
        b->zoomBy(8.0);
        const QImage shot = b->grab().toImage();
        QVERIFY(shot.copy(QRect(b->width() / 2 - 200, b->height() / 2 - 150, 400, 300))
                    .save(screenshotDir() + QStringLiteral("/preprocess_lab_zoom.png")));
        const QPoint c(b->width() / 2, b->height() / 2);
        const QPointF ip = b->toImage(c);
        const QPoint px(static_cast<int>(ip.x()), static_cast<int>(ip.y()));
        const QRgb expected = b->image().pixel(px);
        int same = 0;
        for (int dy = -3; dy <= 3; ++dy)
            for (int dx = -3; dx <= 3; ++dx) {
                const QPointF q = b->toImage(c + QPoint(dx, dy));
                if (QPoint(static_cast<int>(q.x()), static_cast<int>(q.y())) == px)
                    same += shot.pixel(c + QPoint(dx, dy)) == expected;
                else
                    same += 1;
            }
        QCOMPARE(same, 49);
    }
};

QTEST_MAIN(PreprocessLabTest)
#include "preprocess_lab_test.moc"
