// The element trace panel and the profile difference map as docks of the main window, and
// the work behind them.
//
// Trace: the op's inputs are those of the int run (the current profile and input). The
// integer run keeps no values, so the first trace after a run runs the engine again on a
// worker thread with every value kept (progress and Cancel in the panel); later traces of
// any element or op of that run are computed at once from those values. A click in the
// difference map traces on the values of the comparison's profile-A run instead.
// Difference map: compareProfiles on the current input on a worker thread (progress,
// Cancel), then the per-layer table and the selected tensor's map.
#pragma once

#include <QObject>
#include <QVector>
#include <atomic>
#include <functional>
#include <memory>
#include <optional>

#include "app/gui/run_controller.h"
#include "engine/profiles/profile.h"
#include "engine/trace/element_trace.h"
#include "engine/trace/profile_diff.h"

class QDockWidget;
class QThread;

namespace qs::widgets {
class ElementTraceView;
class ProfileDiffView;
}  // namespace qs::widgets

namespace qs::app {

class MainWindow;

class TraceTools : public QObject {
    Q_OBJECT
public:
    // Creates both docks on `window` (trace beside the tensor views, the difference map as a
    // tab of them), hidden until asked for.
    explicit TraceTools(MainWindow* window);
    ~TraceTools() override;

    enum class Source { IntRun, Comparison };
    // Traces `element` of `tensor` (current subgraph) and shows the trace dock.
    void traceElement(int tensor, const QVector<int>& element, Source source = Source::IntRun);
    // Traces `element` of the selected op output.
    void traceSelected(const QVector<int>& element);
    // Compares the two profiles on the current input and shows the difference dock.
    void compareProfiles(engine::RoundingProfile a, engine::RoundingProfile b);
    void cancel();
    bool busy() const;
    // Blocks until no background work is left (tests, shutdown).
    void waitForIdle();

    widgets::ElementTraceView* traceView() const { return m_traceView; }
    widgets::ProfileDiffView* diffView() const { return m_diffView; }
    QDockWidget* traceDock() const { return m_traceDock; }
    QDockWidget* diffDock() const { return m_diffDock; }
    // The trace shown (nullopt when the panel shows a message instead).
    const std::optional<engine::trace::ElementTrace>& lastTrace() const { return m_trace; }
    std::shared_ptr<const engine::trace::ProfileComparison> comparison() const {
        return m_comparison;
    }

signals:
    // The trace panel shows a new trace or the reason there is none.
    void traceShown();
    // The difference view shows a finished comparison (or why it failed / was cancelled).
    void comparisonShown();

private:
    struct Job;
    struct Values;
    void selectionShown(int op, int tensor);
    void showDock(QDockWidget* dock);
    void dockShown(QDockWidget* dock);
    void runFinished();
    void updateTarget();
    void updateMap();
    void showTrace(const engine::RunResult& run, const QString& source);
    void startValuesRun();
    void layerSelected(int op, int tensor);
    using Work = std::function<void(const std::atomic<bool>& cancel)>;
    void launch(Job& job, Work work, std::function<void()> done);
    void finish(Job& job);
    // Queues a progress report to the GUI thread (at most every ~30 ms).
    void postProgress(bool diff, const QString& what, int done, int total);

    MainWindow* m_window;
    widgets::ElementTraceView* m_traceView;
    widgets::ProfileDiffView* m_diffView;
    QDockWidget* m_traceDock;
    QDockWidget* m_diffDock;
    std::unique_ptr<Job> m_valuesJob, m_diffJob;

    int m_op = -1, m_tensor = -1;  // the selected op output
    // The trace asked for (re-traced when a new run finishes).
    const void* m_traceDocument = nullptr;  // model and subgraph of m_traceTensor
    int m_traceSubgraph = -1;
    int m_traceTensor = -1;
    QVector<int> m_traceElement;
    Source m_traceSource = Source::IntRun;
    bool m_traceWanted = false;
    std::optional<engine::trace::ElementTrace> m_trace;

    std::shared_ptr<const Values> m_values;  // the int run's values (one run's generation)
    std::shared_ptr<const engine::trace::ProfileComparison> m_comparison;
    RunRequest m_comparisonRequest;  // model, subgraph and input of the comparison
    int m_mapTensor = -1;
    bool m_showingDock = false;
};

}  // namespace qs::app
