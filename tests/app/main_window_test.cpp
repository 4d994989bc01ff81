// The main window, headless: open the bundled sample and every conformance model, the op
// table's contents, filtering, a bad file, and a screenshot that is not blank.
#include <QAbstractItemModelTester>
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QSet>
#include <QStandardPaths>
#include <QTableView>
#include <QTemporaryDir>
#include <QtTest>

#include "app/gui/main_window.h"
#include "app/gui/model_document.h"
#include "widgets/ops/op_table_model.h"
#include "widgets/ops/op_table_view.h"

using qs::app::MainWindow;

namespace {

QString screenshotDir() {
    const QString dir = qEnvironmentVariable("QS_SCREENSHOT_DIR", QDir::tempPath());
    QDir().mkpath(dir);
    return dir;
}

// A rendered window is "not blank" when it has many distinct colours, not one flat fill.
int distinctColours(const QImage& image) {
    QSet<QRgb> colours;
    for (int y = 0; y < image.height(); y += 3) {
        for (int x = 0; x < image.width(); x += 3) colours.insert(image.pixel(x, y));
    }
    return static_cast<int>(colours.size());
}

}  // namespace

class MainWindowTest : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);  // keep recent files out of the user's settings
        QSettings().clear();
    }

    void opensBundledSample() {
        MainWindow w;
        w.show();
        const QString sample = qs::app::bundledSamplePath();
        QVERIFY2(!sample.isEmpty(), "bundled sample not found");
        QVERIFY(w.openModel(sample, false));
        QVERIFY(w.document());
        const auto& sg = w.document()->model().main();
        QCOMPARE(w.opTable()->model()->rowCount(), static_cast<int>(sg.operators.size()));
        QCOMPARE(w.opTable()->model()->index(0, qs::widgets::OpTableModel::Type).data().toString(),
                 QStringLiteral("CONV_2D"));
        QVERIFY(w.windowTitle().contains(QStringLiteral("resnet8_cifar_int8.tflite")));
        QCOMPARE(w.recentFiles().value(0), QFileInfo(sample).absoluteFilePath());
    }

    void screenshotIsNotBlank() {
        MainWindow w;
        w.resize(1280, 800);
        w.show();
        QVERIFY(w.openModel(qs::app::bundledSamplePath(), false));
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        const QImage image = w.grab().toImage();
        QVERIFY(!image.isNull());
        const QString path = screenshotDir() + QStringLiteral("/main_window_resnet8.png");
        QVERIFY(image.save(path));
        QVERIFY2(distinctColours(image) > 20, "screenshot looks blank");
    }

    void itemModelIsConsistent() {
        MainWindow w;
        QAbstractItemModelTester tester(w.opTable()->model(),
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        QVERIFY(w.openModel(qs::app::bundledSamplePath(), false));
        QVERIFY(w.openModel(QStringLiteral(QS_CONFORMANCE_DIR "/kws_dscnn_int8/model.tflite"), false));
    }

    void filterNarrowsRows() {
        MainWindow w;
        QVERIFY(w.openModel(qs::app::bundledSamplePath(), false));
        const int all = w.opTable()->visibleRowCount();
        w.opTable()->setFilterText(QStringLiteral("ADD"));
        const int adds = w.opTable()->visibleRowCount();
        QVERIFY(adds > 0);
        QVERIFY(adds < all);
        w.opTable()->setFilterText(QStringLiteral("no-such-op-anywhere"));
        QCOMPARE(w.opTable()->visibleRowCount(), 0);
        w.opTable()->setFilterText(QString());
        QCOMPARE(w.opTable()->visibleRowCount(), all);
    }

    void badFileKeepsPreviousModel() {
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
    }

    void opensEveryConformanceModel() {
        MainWindow w;
        QDirIterator it(QStringLiteral(QS_CONFORMANCE_DIR), {QStringLiteral("model.tflite")},
                        QDir::Files, QDirIterator::Subdirectories);
        int count = 0;
        while (it.hasNext()) {
            const QString path = it.next();
            QVERIFY2(w.openModel(path, false), qPrintable(path));
            QCOMPARE(w.opTable()->model()->rowCount(),
                     static_cast<int>(w.document()->model().main().operators.size()));
            ++count;
        }
        QVERIFY(count >= 20);
    }
};

QTEST_MAIN(MainWindowTest)
#include "main_window_test.moc"
