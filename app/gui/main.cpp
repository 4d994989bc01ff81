// quantscope: the desktop application.
//   quantscope [MODEL] [--float F] [--input IMAGE|DIR|X.npy]... [--seed N] [--profile P] [--mode M]
//              [--select TENSOR] [--screenshot OUT.png] [--verbose] [--bench-views N]
// With --screenshot the window is rendered once the run has finished (graph coloured), saved
// as PNG, and the app exits (0 saved, 2 the model, run or PNG failed). --verbose prints one
// line per phase with milliseconds since the process started: load, layout, run, first paint;
// and "tensor views <ms> ms" for each update of the tensor views (its own duration).
// --bench-views N times N switches among the largest tensors per tab of the tensor views
// (views_bench.h), prints min/median/max and exits.
// Runs headless with QT_QPA_PLATFORM=offscreen.
#include <unistd.h>
#include <QApplication>
#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QImageWriter>
#include <QSaveFile>
#include <QTimer>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <string>

#include "app/gui/main_window.h"
#include "app/gui/model_document.h"
#include "app/gui/views_bench.h"
#include "widgets/graph/graph_panel.h"
#include "widgets/graph/graph_view.h"

namespace {

// Milliseconds the process had been alive when main() started: /proc/self/stat's starttime
// (clock ticks after boot) against CLOCK_BOOTTIME, so dynamic loading and static
// initialisation count too. 0 where /proc is not available.
double processAgeAtMainMs() {
    std::ifstream stat("/proc/self/stat");
    std::string text;
    if (!std::getline(stat, text)) return 0.0;
    // Field 2 (comm) may contain spaces; fields restart after the last ')'.
    const auto close = text.rfind(')');
    if (close == std::string::npos) return 0.0;
    std::string rest = text.substr(close + 2);
    unsigned long long startTicks = 0;
    int field = 3;
    size_t pos = 0;
    while (field < 22 && pos != std::string::npos) {
        pos = rest.find(' ', pos);
        if (pos != std::string::npos) ++pos;
        ++field;
    }
    if (pos == std::string::npos) return 0.0;
    startTicks = std::stoull(rest.substr(pos));
    timespec now{};
    clock_gettime(CLOCK_BOOTTIME, &now);
    const double nowMs =
        static_cast<double>(now.tv_sec) * 1e3 + static_cast<double>(now.tv_nsec) / 1e6;
    const double startMs =
        static_cast<double>(startTicks) * 1e3 / static_cast<double>(sysconf(_SC_CLK_TCK));
    return std::max(0.0, nowMs - startMs);
}

class PhaseClock {
public:
    PhaseClock() : m_offset(processAgeAtMainMs()) { m_timer.start(); }
    double now() const { return m_offset + static_cast<double>(m_timer.nsecsElapsed()) / 1e6; }
    void print(const char* phase) const {
        std::printf("%s %.0f ms\n", phase, now()), std::fflush(stdout);
    }

private:
    double m_offset;
    QElapsedTimer m_timer;
};

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
    const PhaseClock clock;
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
    const QCommandLineOption floatModel(QStringLiteral("float"),
                                        QStringLiteral("Float reference model to pair."),
                                        QStringLiteral("F.tflite"));
    const QCommandLineOption input(QStringLiteral("input"),
                                   QStringLiteral("Input .npy or image (repeat: one per model "
                                                  "input), or a folder as a dataset."),
                                   QStringLiteral("IMAGE|DIR|X.npy"));
    const QCommandLineOption seed(QStringLiteral("seed"),
                                  QStringLiteral("Seed of the random input (default 0)."),
                                  QStringLiteral("N"));
    const QCommandLineOption profile(
        QStringLiteral("profile"),
        QStringLiteral("Rounding profile: reference, single-rounding, xnnpack, builtin."),
        QStringLiteral("P"));
    const QCommandLineOption mode(QStringLiteral("mode"),
                                  QStringLiteral("Error mode: accumulated or local."),
                                  QStringLiteral("M"));
    const QCommandLineOption select(
        QStringLiteral("select"),
        QStringLiteral("Select the op producing this tensor and show its "
                       "tensor views; 'worst': the tensor with the worst "
                       "value of the colour metric."),
        QStringLiteral("TENSOR"));
    const QCommandLineOption screenshot(
        QStringLiteral("screenshot"),
        QStringLiteral("Save the window as a PNG after the run, then exit."),
        QStringLiteral("OUT.png"));
    const QCommandLineOption verbose(
        QStringLiteral("verbose"), QStringLiteral("Print phase timings (ms since process start)."));
    const QCommandLineOption benchViews(
        QStringLiteral("bench-views"),
        QStringLiteral("After the run, switch N times among the largest tensors with each tab "
                       "of the tensor views shown; print min/median/max ms and exit."),
        QStringLiteral("N"));
    parser.addOptions(
        {floatModel, input, seed, profile, mode, select, screenshot, verbose, benchViews});
    parser.process(app);

    int benchSwitches = 0;
    if (parser.isSet(benchViews)) {
        bool ok = false;
        benchSwitches = parser.value(benchViews).toInt(&ok);
        if (!ok || benchSwitches < 1) {
            std::fprintf(stderr, "error: --bench-views needs a positive count, not %s\n",
                         qPrintable(parser.value(benchViews)));
            return 1;
        }
    }
    const bool headless = parser.isSet(screenshot) || benchSwitches > 0;
    const bool talk = parser.isSet(verbose);
    const QStringList positional = parser.positionalArguments();
    if (positional.size() > 1) {
        std::fprintf(stderr, "error: expected at most one model file\n");
        return 1;
    }
    if (headless && positional.isEmpty()) {
        std::fprintf(stderr, "error: --screenshot and --bench-views need a model file\n");
        return 1;
    }

    qs::app::MainWindow window;
    if (parser.isSet(profile)) {
        const auto p = qs::engine::parseProfile(parser.value(profile).toStdString());
        if (!p) {
            std::fprintf(stderr, "error: unknown profile %s\n", qPrintable(parser.value(profile)));
            return 1;
        }
        window.setProfile(*p);
    }
    if (parser.isSet(mode)) {
        const QString m = parser.value(mode);
        if (m != QLatin1String("accumulated") && m != QLatin1String("local")) {
            std::fprintf(stderr, "error: unknown mode %s\n", qPrintable(m));
            return 1;
        }
        window.setErrorMode(m == QLatin1String("local") ? qs::app::ErrorMode::Local
                                                        : qs::app::ErrorMode::Accumulated);
    }
    if (parser.isSet(seed)) window.setSeed(parser.value(seed).toULongLong());
    if (parser.isSet(input)) window.setInputFiles(parser.values(input));

    int status = 0;
    bool runFailed = false;
    if (talk) {
        QObject::connect(&window, &qs::app::MainWindow::modelLoaded, [&] { clock.print("load"); });
        QObject::connect(&window, &qs::app::MainWindow::graphLaidOut,
                         [&] { clock.print("layout"); });
    }
    if (talk) {
        // Duration of the views' update (data + every plot redrawn), not time since start.
        QObject::connect(
            &window, &qs::app::MainWindow::tensorViewsShown, [](int tensor, double ms) {
                std::printf("tensor views %.1f ms (tensor %d)\n", ms, tensor), std::fflush(stdout);
            });
    }
    QObject::connect(&window, &qs::app::MainWindow::runFinished, [&] {
        if (talk) clock.print("run");
        const auto* outcome = window.lastOutcome();
        if (outcome && !outcome->ok()) {
            std::fprintf(stderr, "error: %s\n", qPrintable(outcome->error));
            runFailed = true;
        }
        if (parser.isSet(select)) {
            const QString name = parser.value(select);
            if (name == QLatin1String("worst")) {
                if (!window.selectWorstTensor())
                    std::fprintf(stderr, "warning: no tensor has a value of %s\n",
                                 qPrintable(window.colourMetric()));
            } else if (!window.selectTensorByName(name)) {
                std::fprintf(stderr, "warning: no tensor named %s\n", qPrintable(name));
            }
        }
        // Paint now: the coloured graph on screen is the "first paint" phase.
        window.graphPanel()->view()->viewport()->repaint();
    });
    QObject::connect(&window, &qs::app::MainWindow::graphPainted, [&] {
        if (talk) clock.print("first paint");
        if (!headless) return;
        QTimer::singleShot(0, &app, [&] {
            if (benchSwitches > 0 && !runFailed) {
                QString error;
                const QStringList lines = qs::app::benchTensorViews(window, benchSwitches, &error);
                if (lines.isEmpty()) {
                    std::fprintf(stderr, "error: %s\n", qPrintable(error));
                    runFailed = true;
                }
                for (const QString& line : lines) std::printf("%s\n", qPrintable(line));
                std::fflush(stdout);
            }
            QString error;
            if (parser.isSet(screenshot) &&
                !saveScreenshot(window, parser.value(screenshot), &error)) {
                std::fprintf(stderr, "error: cannot write %s: %s\n",
                             qPrintable(parser.value(screenshot)), qPrintable(error));
                status = 2;
            }
            if (runFailed) status = 2;
            app.quit();
        });
    });

    window.show();
    if (parser.isSet(floatModel) && !window.openFloatModel(parser.value(floatModel), !headless) &&
        headless) {
        std::fprintf(stderr, "error: cannot open %s\n", qPrintable(parser.value(floatModel)));
        return 2;
    }
    if (!positional.isEmpty() && !window.openModel(positional.front(), !headless) && headless) {
        // The one-line error is already in the status bar; print it for scripts too.
        std::fprintf(stderr, "error: cannot open %s\n", qPrintable(positional.front()));
        return 2;
    }
    const int rc = app.exec();
    return headless ? status : rc;
}
