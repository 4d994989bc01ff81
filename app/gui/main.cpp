// quantscope: the desktop application.
//   quantscope [MODEL] [--screenshot OUT.png]
// With --screenshot the window is rendered after loading, saved as PNG, and the app exits
// (0 saved, 2 the model or the PNG could not be written). Runs headless with
// QT_QPA_PLATFORM=offscreen.
#include <QApplication>
#include <QCommandLineParser>
#include <QImageWriter>
#include <QSaveFile>
#include <QTimer>
#include <cstdio>

#include "app/gui/main_window.h"

namespace {

// Renders the window and writes the PNG atomically (temp file + rename via QSaveFile).
bool saveScreenshot(QWidget& window, const QString& path, QString* error) {
    const QImage image = window.grab().toImage();
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) {
        *error = file.errorString();
        return false;
    }
    QImageWriter writer(&file, "png");
    if (!writer.write(image)) {
        *error = writer.errorString();
        file.cancelWriting();
        return false;
    }
    if (!file.commit()) {
        *error = file.errorString();
        return false;
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("Quantscope"));
    QApplication::setOrganizationName(QStringLiteral("Quantscope"));
    QApplication::setApplicationVersion(QStringLiteral(QS_VERSION));

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("See where and why a quantized TensorFlow Lite model disagrees with its "
                       "float original."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(QStringLiteral("model"), QStringLiteral("A .tflite file to open."),
                                 QStringLiteral("[MODEL]"));
    const QCommandLineOption screenshot(
        QStringLiteral("screenshot"),
        QStringLiteral("Save the window as a PNG after loading, then exit."), QStringLiteral("OUT.png"));
    parser.addOption(screenshot);
    parser.process(app);

    const bool headless = parser.isSet(screenshot);
    qs::app::MainWindow window;
    window.show();

    const QStringList positional = parser.positionalArguments();
    if (positional.size() > 1) {
        std::fprintf(stderr, "error: expected at most one model file\n");
        return 1;
    }
    if (!positional.isEmpty() && !window.openModel(positional.front(), !headless) && headless) {
        // The one-line error is already in the status bar; print it for scripts too.
        std::fprintf(stderr, "error: cannot open %s\n", qPrintable(positional.front()));
        return 2;
    }
    if (!headless) return app.exec();

    // Let layouts settle and the first paint happen before grabbing.
    int status = 0;
    QTimer::singleShot(0, &app, [&] {
        QString error;
        if (!saveScreenshot(window, parser.value(screenshot), &error)) {
            std::fprintf(stderr, "error: cannot write %s: %s\n",
                         qPrintable(parser.value(screenshot)), qPrintable(error));
            status = 2;
        }
        app.quit();
    });
    app.exec();
    return status;
}
