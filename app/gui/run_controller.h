// Runs the metric source (or, without one, the integer engine) on a worker thread, one run at a
// time. The error analysis runs the integer engine itself on the first input sample, with
// per-op progress, and its run is the outcome's; when the source cannot analyse the model, a
// plain integer run stands in. A folder dataset: progress and cancel per sample after that.
// A new request cancels the running one (RunOptions::progress returns false) and starts as
// soon as it has stopped; results of a superseded run are dropped.
#pragma once

#include <QObject>
#include <QStringList>
#include <atomic>
#include <memory>
#include <optional>
#include <vector>

#include "app/gui/input_source.h"
#include "app/gui/metric_source.h"
#include "engine/profiles/profile.h"
#include "model/model.h"

class QThread;

namespace qs::app {

class ModelDocument;

struct RunRequest {
    std::shared_ptr<const ModelDocument> document;
    std::shared_ptr<const model::Model> floatModel;  // optional paired float model
    int subgraph = 0;
    engine::RoundingProfile profile = engine::RoundingProfile::Reference;
    ErrorMode mode = ErrorMode::Accumulated;
    InputSpec input;
};

struct RunOutcome {
    int generation = 0;
    RunRequest request;
    QString error;  // one line; set when the run could not start (bad input file, ...)
    // One line; set when the run stands but the error analysis could not run (e.g. a paired
    // float model whose input shape differs); the table then has no metric values.
    QString analysisError;
    int opsTotal = 0;
    int opsRun = 0;
    int stoppedAt = -1;  // op that could not run, or -1
    bool cancelled = false;
    QStringList warnings;
    // The input samples (one for random or files, one per file for a folder) and, for
    // images, the preprocessing pipeline and input quantization error of the first sample.
    QStringList sampleNames;
    QString inputSummary;
    std::vector<char> produced;  // per tensor of the subgraph: computed by the integer run
    MetricTable metrics;
    double runMs = 0.0;
    double metricsMs = 0.0;
    bool ok() const { return error.isEmpty(); }
};

class RunController : public QObject {
    Q_OBJECT
public:
    explicit RunController(QObject* parent = nullptr);
    ~RunController() override;

    // Takes ownership; may be null (no metrics).
    void setMetricSource(std::unique_ptr<MetricSource> source);
    void start(RunRequest request);
    void cancel();
    bool running() const { return m_thread != nullptr; }
    // Blocks until no run is active (tests, shutdown).
    void waitForIdle();

signals:
    void started(int generation);
    // ops done / total of the integer run, then of the metric pass.
    void progress(int done, int total, const QString& phase);
    void finished(std::shared_ptr<const qs::app::RunOutcome> outcome);

private:
    void launch();
    void threadDone();

    std::shared_ptr<MetricSource> m_metrics;
    std::optional<RunRequest> m_pending;
    QThread* m_thread = nullptr;
    std::shared_ptr<std::atomic<bool>> m_cancel;
    std::shared_ptr<RunOutcome> m_current;
    int m_generation = 0;
};

}  // namespace qs::app
