// quantscope: the desktop application.
//   quantscope [MODEL] [--float F] [--input IMAGE|DIR|X.npy]... [--seed N] [--profile P] [--mode M]
//              [--select TENSOR|INDEX|worst] [--lab IMAGE] [--trace i,j,k,l]
//              [--diff-profiles A,B] [--playground] [--workshop] [--lesson N [--lesson-step K]]
//              [--screenshot OUT.png] [--verbose] [--bench-views N]
// With --screenshot the window is rendered once the run has finished (graph coloured) and
// the trace / comparison asked for are shown, saved as PNG, and the app exits (0 saved, 2 the
// model, run, trace, comparison or PNG failed).
// --lab IMAGE opens Tools › Preprocessing Lab with that photo (the model's default pipeline
// and the same with INTER_AREA side by side); with --screenshot the lab window is saved once
// every pipeline has its result (2 when the image cannot be read).
// --trace shows the element trace of that element of the selected op output (--select) in
// the Element trace dock; --diff-profiles compares two rounding profiles (e.g.
// reference,xnnpack) in the Profile difference dock, with the selected tensor's map.
// --playground raises the quantization playground dock (without a model it shows a normal
// distribution; --screenshot then needs no model); --workshop turns workshop mode on for this
// session (not saved); --lesson N opens the bundled sample at lesson N (1-based; --lesson-step
// K at its step K) and the screenshot waits until that step is set up.
// --verbose prints one line per phase with milliseconds since the process started: load,
// layout, run, first paint (and lab);
// and "tensor views <ms> ms" for each update of the tensor views (its own duration).
// --bench-views N times N switches among the largest tensors per tab of the tensor views
// (views_bench.h), prints min/median/max and exits.
// Runs headless with QT_QPA_PLATFORM=offscreen.
#include <unistd.h>
#include <QApplication>
#include <QCommandLineParser>
#include <QDockWidget>
#include <QElapsedTimer>
#include <QImageWriter>
#include <QLabel>
#include <QSaveFile>
#include <QTimer>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <optional>
#include <string>

#include "app/gui/lessons.h"
#include "app/gui/main_window.h"
#include "app/gui/model_document.h"
#include "app/gui/preprocess_lab.h"
#include "app/gui/trace_tools.h"
#include "app/gui/views_bench.h"
#include "widgets/graph/graph_panel.h"
#include "widgets/graph/graph_view.h"
#include "widgets/trace/element_trace_view.h"
#include "widgets/trace/profile_diff_view.h"

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
        QStringLiteral("Rounding profile for this window: reference, single-rounding, xnnpack, "
                       "builtin (the saved default is kept)."),
        QStringLiteral("P"));
    const QCommandLineOption mode(QStringLiteral("mode"),
                                  QStringLiteral("Error mode for this window: accumulated or local "
                                                 "(the saved default is kept)."),
                                  QStringLiteral("M"));
    const QCommandLineOption select(
        QStringLiteral("select"),
        QStringLiteral("Select the op producing this tensor and show its "
                       "tensor views; 'worst': the tensor with the worst "
                       "value of the colour metric; a number: that "
                       "tensor index."),
        QStringLiteral("TENSOR"));
    const QCommandLineOption screenshot(
        QStringLiteral("screenshot"),
        QStringLiteral("Save the window as a PNG after the run, then exit."),
        QStringLiteral("OUT.png"));
    const QCommandLineOption lab(
        QStringLiteral("lab"),
        QStringLiteral("Open the preprocessing lab with this image (with --screenshot: save "
                       "the lab window instead of the main window)."),
        QStringLiteral("IMAGE"));
    const QCommandLineOption trace(
        QStringLiteral("trace"),
        QStringLiteral("Show the element trace of this element of the selected tensor."),
        QStringLiteral("i,j,k,l"));
    const QCommandLineOption diffProfiles(
        QStringLiteral("diff-profiles"),
        QStringLiteral("Compare two rounding profiles, e.g. reference,xnnpack."),
        QStringLiteral("A,B"));
    const QCommandLineOption verbose(
        QStringLiteral("verbose"), QStringLiteral("Print phase timings (ms since process start)."));
    const QCommandLineOption benchViews(
        QStringLiteral("bench-views"),
        QStringLiteral("After the run, switch N times among the largest tensors with each tab "
                       "of the tensor views shown; print min/median/max ms and exit."),
        QStringLiteral("N"));
    const QCommandLineOption playground(QStringLiteral("playground"),
                                        QStringLiteral("Show the quantization playground."));
    const QCommandLineOption workshop(
        QStringLiteral("workshop"),
        QStringLiteral("Workshop mode (large fonts, high contrast) for this session."));
    const QCommandLineOption lesson(QStringLiteral("lesson"),
                                    QStringLiteral("Start guided lesson N (1-based) on the bundled "
                                                   "sample."),
                                    QStringLiteral("N"));
    const QCommandLineOption lessonStep(QStringLiteral("lesson-step"),
                                        QStringLiteral("With --lesson: go to step K (1-based)."),
                                        QStringLiteral("K"));
    parser.addOptions({floatModel, input, seed, profile, mode, select, lab, trace, diffProfiles,
                       playground, workshop, lesson, lessonStep, screenshot, verbose, benchViews});
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
    if (parser.isSet(lab) && positional.isEmpty()) {
        std::fprintf(stderr, "error: --lab needs a model file\n");
        return 1;
    }
    const bool lessonMode = parser.isSet(lesson);
    int lessonIndex = -1, lessonStepIndex = 0;
    if (lessonMode) {
        bool ok = false, stepOk = true;
        lessonIndex = parser.value(lesson).toInt(&ok) - 1;
        if (parser.isSet(lessonStep)) lessonStepIndex = parser.value(lessonStep).toInt(&stepOk) - 1;
        if (!ok || lessonIndex < 0 || !stepOk || lessonStepIndex < 0) {
            std::fprintf(stderr, "error: --lesson and --lesson-step take numbers from 1\n");
            return 1;
        }
        if (!positional.isEmpty()) {
            std::fprintf(stderr, "error: --lesson opens the bundled sample; give no model file\n");
            return 1;
        }
    }
    // Without a model the screenshot is of the playground (or a lesson, which opens its own).
    const bool playgroundOnly = positional.isEmpty() && !lessonMode && parser.isSet(playground);
    if (benchSwitches > 0 && positional.isEmpty()) {
        std::fprintf(stderr, "error: --bench-views needs a model file\n");
        return 1;
    }
    if (headless && positional.isEmpty() && !lessonMode && !playgroundOnly) {
        std::fprintf(stderr, "error: --screenshot needs a model file, --lesson or --playground\n");
        return 1;
    }

    QVector<int> traceElement;
    if (parser.isSet(trace)) {
        for (const QString& part : parser.value(trace).split(QLatin1Char(','))) {
            bool ok = false;
            const int v = part.trimmed().toInt(&ok);
            if (!ok || v < 0) {
                std::fprintf(stderr, "error: --trace %s is not a list of non-negative integers\n",
                             qPrintable(parser.value(trace)));
                return 1;
            }
            traceElement << v;
        }
    }
    std::optional<std::pair<qs::engine::RoundingProfile, qs::engine::RoundingProfile>> diff;
    if (parser.isSet(diffProfiles)) {
        const QStringList names = parser.value(diffProfiles).split(QLatin1Char(','));
        const auto a = qs::engine::parseProfile(names.value(0).trimmed().toStdString());
        const auto b = qs::engine::parseProfile(names.value(1).trimmed().toStdString());
        if (names.size() != 2 || !a || !b) {
            std::fprintf(stderr,
                         "error: --diff-profiles %s is not two of reference, single-rounding, "
                         "xnnpack, builtin\n",
                         qPrintable(parser.value(diffProfiles)));
            return 1;
        }
        diff = std::make_pair(*a, *b);
    }

    qs::app::MainWindow window;
    if (parser.isSet(workshop)) window.setWorkshopMode(true, false);
    if (parser.isSet(playground)) {
        window.playgroundDock()->show();
        window.playgroundDock()->raise();
    }
    if (parser.isSet(profile)) {
        const auto p = qs::engine::parseProfile(parser.value(profile).toStdString());
        if (!p) {
            std::fprintf(stderr, "error: unknown profile %s\n", qPrintable(parser.value(profile)));
            return 1;
        }
        window.setProfile(*p, false);
    }
    if (parser.isSet(mode)) {
        const QString m = parser.value(mode);
        if (m != QLatin1String("accumulated") && m != QLatin1String("local")) {
            std::fprintf(stderr, "error: unknown mode %s\n", qPrintable(m));
            return 1;
        }
        window.setErrorMode(m == QLatin1String("local") ? qs::app::ErrorMode::Local
                                                        : qs::app::ErrorMode::Accumulated,
                            false);
    }
    if (parser.isSet(seed)) window.setSeed(parser.value(seed).toULongLong());
    if (parser.isSet(input)) window.setInputFiles(parser.values(input));

    int status = 0;
    bool runFailed = false;
    // The screenshot waits for the coloured graph and for the trace / comparison asked for.
    bool painted = false, started = false, toolFailed = false;
    int waiting = 0;
    auto* tools = window.traceTools();
    auto shoot = [&] {
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
            if (runFailed || toolFailed) status = 2;
            app.quit();
        });
    };
    auto saveWhenReady = [&] {
        if (!headless || !painted || !started || waiting > 0) return;
        shoot();
    };
    QObject::connect(tools, &qs::app::TraceTools::traceShown, [&] {
        if (!started || traceElement.isEmpty() || waiting == 0) return;
        if (!tools->lastTrace()) {
            std::fprintf(stderr, "error: no trace: %s\n",
                         qPrintable(tools->traceView()->messageLabel()->text()));
            toolFailed = true;
        }
        --waiting, saveWhenReady();
    });
    QObject::connect(tools, &qs::app::TraceTools::comparisonShown, [&] {
        if (!started || !diff || waiting == 0) return;
        if (!tools->comparison()) {
            std::fprintf(stderr, "error: no comparison: %s\n",
                         qPrintable(tools->diffView()->statusLabel()->text()));
            toolFailed = true;
        }
        --waiting, saveWhenReady();
    });
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
                // Converted models' tensor names run long: a tensor index selects too.
                bool isIndex = false;
                const int index = name.toInt(&isIndex);
                auto* view = window.graphPanel()->view();
                const int node = isIndex ? view->nodeForTensor(index) : -1;
                if (node >= 0)
                    view->selectNode(node);
                else
                    std::fprintf(stderr, "warning: no tensor named %s\n", qPrintable(name));
            }
        }
        if (!started) {
            // Once, after the first run: the comparison, then the trace (its dock last, so
            // both docks are in view).
            started = true;
            waiting = (diff ? 1 : 0) + (traceElement.isEmpty() ? 0 : 1);
            if (diff) tools->compareProfiles(diff->first, diff->second);
            if (!traceElement.isEmpty()) tools->traceSelected(traceElement);
            saveWhenReady();
        }
        // Paint now: the coloured graph on screen is the "first paint" phase.
        window.graphPanel()->view()->viewport()->repaint();
    });
    QObject::connect(&window, &qs::app::MainWindow::graphPainted, [&] {
        if (talk) clock.print("first paint");
        painted = true;
        // The lab saves its own window; a lesson waits for its step.
        if (parser.isSet(lab) || lessonMode) return;
        saveWhenReady();
    });
    // A lesson's step is ready after its own run (profile and mode) and selection.
    QObject::connect(window.lessons(), &qs::app::LessonRunner::stepReady, [&](int, int step) {
        if (step < lessonStepIndex) {
            window.lessons()->goToStep(lessonStepIndex);
            return;
        }
        if (headless) shoot();
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
    if (!positional.isEmpty() && parser.isSet(lab)) {
        auto* labWindow = window.openPreprocessingLab();
        QObject::connect(labWindow, &qs::app::PreprocessLab::evaluated, &app, [&, labWindow] {
            if (talk) clock.print("lab");
            if (!headless) return;
            QTimer::singleShot(0, &app, [&, labWindow] {
                QString error;
                if (!saveScreenshot(*labWindow, parser.value(screenshot), &error)) {
                    std::fprintf(stderr, "error: cannot write %s: %s\n",
                                 qPrintable(parser.value(screenshot)), qPrintable(error));
                    status = 2;
                }
                app.quit();
            });
        });
        QString error;
        if (!labWindow->openImage(parser.value(lab), &error)) {
            std::fprintf(stderr, "error: %s\n", qPrintable(error));
            if (headless) return 2;
        }
    }
    if (lessonMode) {
        QString error;
        if (!window.lessons()->start(lessonIndex, &error)) {
            std::fprintf(stderr, "error: %s\n", qPrintable(error));
            return 2;
        }
        const auto* l = window.lessons()->current();
        if (l && lessonStepIndex >= l->steps.size()) {
            std::fprintf(stderr, "error: lesson %d has %d steps\n", lessonIndex + 1,
                         static_cast<int>(l->steps.size()));
            return 1;
        }
    }
    if (headless && playgroundOnly) shoot();
    const int rc = app.exec();
    return headless ? status : rc;
}
