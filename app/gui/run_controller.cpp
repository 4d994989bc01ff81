#include "app/gui/run_controller.h"

#include <QElapsedTimer>
#include <QThread>

#include "app/gui/model_document.h"
#include "app/gui/progress_throttle.h"
#include "engine/executor.h"

namespace qs::app {

namespace {

QString fromStd(const std::string& s) {
    return QString::fromStdString(s);
}

}  // namespace

RunController::RunController(QObject* parent) : QObject(parent) {}

RunController::~RunController() {
    m_pending.reset();
    waitForIdle();
}

void RunController::setMetricSource(std::unique_ptr<MetricSource> source) {
    m_metrics = std::move(source);
}

void RunController::start(RunRequest request) {
    m_pending = std::move(request);
    if (m_thread) {
        m_cancel->store(true);  // launch() follows from threadDone()
        return;
    }
    launch();
}

void RunController::cancel() {
    m_pending.reset();
    if (m_cancel) m_cancel->store(true);
}

void RunController::waitForIdle() {
    while (m_thread) {
        m_thread->wait();
        threadDone();
    }
}

void RunController::launch() {
    if (!m_pending) return;
    auto outcome = std::make_shared<RunOutcome>();
    outcome->generation = ++m_generation;
    outcome->request = std::move(*m_pending);
    m_pending.reset();
    auto cancel = std::make_shared<std::atomic<bool>>(false);
    m_cancel = cancel;
    m_current = outcome;
    auto metrics = m_metrics;

    m_thread = QThread::create([this, outcome, cancel, metrics] {
        RunOutcome& out = *outcome;
        const RunRequest& req = out.request;
        const model::Model& m = req.document->model();
        const auto& sg = m.subgraphs[static_cast<size_t>(req.subgraph)];
        auto samples = SampleSet::open(m, req.subgraph, req.input);
        if (!samples) {
            out.error = fromStd(samples.error().message);
            return;
        }
        for (int i = 0; i < samples->count(); ++i) out.sampleNames << samples->name(i);
        auto first = samples->load(0);
        if (!first) {
            out.error = fromStd(first.error().message);
            return;
        }
        out.inputSummary = first->summary;
        auto inputs = std::move(first->values);
        out.produced.assign(sg.tensors.size(), 0);
        for (const auto id : sg.inputs) out.produced[static_cast<size_t>(id.value)] = 1;

        QElapsedTimer timer;
        timer.start();
        ProgressThrottle throttle;
        auto opProgress = [&](int done, int total) {
            if (throttle.due(done, total)) emit progress(done, total, tr("Running"));
            return !cancel->load();
        };
        // The outcome's run: the analysis's integer run, or a plain one.
        auto takeRun = [&](const engine::analysis::QuantizedRun& run) {
            out.opsTotal = run.ops_total;
            out.opsRun = run.ops_run;
            out.stoppedAt = run.stopped_at ? run.stopped_at->value : -1;
            for (const auto& w : run.warnings) out.warnings << fromStd(w);
            out.produced.assign(run.produced.begin(), run.produced.end());
            out.produced.resize(sg.tensors.size(), 0);
        };
        // The integer engine on its own: without a metric source, or when the source's
        // analysis could not run the model (it stands for this run otherwise).
        auto runInteger = [&] {
            engine::analysis::QuantizedRun run;
            run.produced = out.produced;  // the graph inputs
            engine::RunOptions options;
            options.profile = req.profile;
            options.keep_values = false;
            options.recorder = [&run](OpId, TensorId t, const engine::TensorValue&) {
                if (t.valid()) run.produced[static_cast<size_t>(t.value)] = 1;
            };
            options.progress = opProgress;
            auto result = engine::run(m, SubgraphId{req.subgraph}, inputs, options);
            if (!result) {
                out.error = fromStd(result.error().message);
                return false;
            }
            run.ops_total = result->ops_total;
            run.ops_run = result->ops_run;
            run.stopped_at = result->stopped_at;
            run.warnings = std::move(result->warnings);
            takeRun(run);
            out.cancelled = result->cancelled;
            return true;
        };
        if (!metrics) {
            runInteger();
            out.runMs = static_cast<double>(timer.nsecsElapsed()) / 1e6;
            return;
        }

        MetricRequest mr;
        mr.quant = &m;
        mr.floatModel = req.floatModel.get();
        mr.subgraph = SubgraphId{req.subgraph};
        mr.inputs = inputs;
        mr.sampleCount = samples->count();
        const SampleSet& set = *samples;
        QString sampleError;  // a dataset file that cannot be read fails the run
        mr.sample = [&set, &sampleError](int i) -> Result<std::vector<engine::TensorValue>> {
            auto s = set.load(i);
            if (!s) {
                sampleError = fromStd(s.error().message);
                return std::unexpected(s.error());
            }
            return std::move(s->values);
        };
        const QString phase = mr.sampleCount > 1 ? tr("Sample") : tr("Analysing");
        mr.profile = req.profile;
        mr.mode = req.mode;
        mr.opProgress = opProgress;
        ProgressThrottle metricThrottle;
        auto table = metrics->compute(mr, [&](int done, int total) {
            if (metricThrottle.due(done, total)) emit progress(done, total, phase);
            return !cancel->load();
        });
        if (!table && !sampleError.isEmpty()) {
            out.error = sampleError;
            return;
        }
        const engine::analysis::QuantizedRun* run =
            table && table->analysis && !table->analysis->quantized_run.produced.empty()
                ? &table->analysis->quantized_run
                : nullptr;
        if (run) {
            takeRun(*run);
        } else if (!runInteger() || out.cancelled) {
            out.runMs = static_cast<double>(timer.nsecsElapsed()) / 1e6;
            return;
        }
        out.runMs = static_cast<double>(timer.nsecsElapsed()) / 1e6;
        if (!table) {
            // The integer run stands; the analysis problem is shown beside it.
            out.analysisError = fromStd(table.error().message);
            out.warnings << tr("error analysis: %1").arg(out.analysisError);
            return;
        }
        out.cancelled = out.cancelled || table->cancelled;
        for (const auto& w : table->warnings) out.warnings << fromStd(w);
        out.metrics = std::move(*table);
    });
    connect(m_thread, &QThread::finished, this, &RunController::threadDone);
    emit started(outcome->generation);
    m_thread->start(QThread::LowPriority);
}

void RunController::threadDone() {
    if (!m_thread) return;
    if (!m_thread->isFinished()) return;
    m_thread->deleteLater();
    m_thread = nullptr;
    auto outcome = std::move(m_current);
    m_cancel.reset();
    if (m_pending) {
        launch();  // the finished run was superseded; its results are dropped
        return;
    }
    if (outcome) emit finished(outcome);
}

}  // namespace qs::app
