#include "app/gui/trace_tools.h"

#include <QAction>
#include <QDockWidget>
#include <QLabel>
#include <QPushButton>
#include <QThread>

#include "app/gui/input_source.h"
#include "app/gui/main_window.h"
#include "app/gui/model_document.h"
#include "app/gui/progress_throttle.h"
#include "app/gui/trace_data.h"
#include "engine/executor.h"
#include "widgets/graph/graph_panel.h"
#include "widgets/graph/graph_view.h"
#include "widgets/plots/heatmap_view.h"
#include "widgets/plots/tensor_views_panel.h"
#include "widgets/trace/diff_table_model.h"
#include "widgets/trace/element_trace_view.h"
#include "widgets/trace/profile_diff_view.h"

namespace qs::app {

namespace etr = engine::trace;

// One background computation of a kind at a time: a new one cancels the running one (its
// result is dropped) and starts when it has stopped.
struct TraceTools::Job {
    QThread* thread = nullptr;
    std::shared_ptr<std::atomic<bool>> cancel;
    std::function<void()> done;     // GUI thread, after the thread finished
    std::function<void()> pending;  // the next job's launch
};

// The int run's values, for tracing any element of that run.
struct TraceTools::Values {
    int generation = 0;  // RunOutcome::generation
    std::shared_ptr<const engine::RunResult> run;
    QString source;
};

namespace {

QString fromStd(const std::string& s) {
    return QString::fromStdString(s);
}

// The first input sample of a run's request (what the int run used); the error in one line.
std::optional<std::vector<engine::TensorValue>> firstSample(const RunRequest& request,
                                                            QString* error) {
    auto samples = SampleSet::open(request.document->model(), request.subgraph, request.input);
    if (!samples) {
        *error = fromStd(samples.error().message);
        return std::nullopt;
    }
    auto first = samples->load(0);
    if (!first) {
        *error = fromStd(first.error().message);
        return std::nullopt;
    }
    return std::move(first->values);
}

bool sameInput(const InputSpec& a, const InputSpec& b) {
    return a.kind == b.kind && a.paths == b.paths && a.seed == b.seed;
}

}  // namespace

TraceTools::TraceTools(MainWindow* window)
    : QObject(window),
      m_window(window),
      m_traceView(new widgets::ElementTraceView(window)),
      m_diffView(new widgets::ProfileDiffView(window)),
      m_traceDock(new QDockWidget(tr("Element trace"), window)),
      m_diffDock(new QDockWidget(tr("Profile difference"), window)),
      m_valuesJob(std::make_unique<Job>()),
      m_diffJob(std::make_unique<Job>()) {
    m_traceDock->setObjectName(QStringLiteral("elementTraceDock"));
    m_traceDock->setWidget(m_traceView);
    m_diffDock->setObjectName(QStringLiteral("profileDiffDock"));
    m_diffDock->setWidget(m_diffView);
    for (QDockWidget* d : {m_traceDock, m_diffDock}) {
        d->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable |
                       QDockWidget::DockWidgetClosable);
        window->addDockWidget(Qt::BottomDockWidgetArea, d);
    }
    // The trace beside the tensor views (a click in a heatmap shows both); the difference
    // map as a tab of the tensor views.
    window->splitDockWidget(window->tensorViewsDock(), m_traceDock, Qt::Horizontal);
    window->tabifyDockWidget(window->tensorViewsDock(), m_diffDock);
    window->tensorViewsDock()->raise();
    m_traceDock->hide();
    m_diffDock->hide();

    QStringList names;
    for (const auto p : engine::kAllProfiles) names << profileDisplayName(p);
    m_diffView->setProfiles(names, 0, 2);  // reference vs xnnpack

    for (QDockWidget* d : {m_traceDock, m_diffDock}) {
        connect(d, &QDockWidget::visibilityChanged, this, [this, d](bool visible) {
            if (visible) dockShown(d);
        });
        // From the menu, a dock that is a tab of the tensor views comes to the front.
        connect(d->toggleViewAction(), &QAction::triggered, d, [d](bool on) {
            if (on) d->raise();
        });
    }
    connect(window, &MainWindow::selectionShown, this, &TraceTools::selectionShown);
    connect(window, &MainWindow::runFinished, this, &TraceTools::runFinished);
    connect(window->tensorViews()->heatmap(), &widgets::HeatmapView::elementClicked, this,
            [this](const QVector<int>& c) { traceElement(m_tensor, c, Source::IntRun); });
    connect(m_traceView, &widgets::ElementTraceView::traceRequested, this,
            &TraceTools::traceSelected);
    connect(m_traceView, &widgets::ElementTraceView::cancelRequested, this, [this] {
        if (m_valuesJob->cancel) m_valuesJob->cancel->store(true);
    });
    connect(m_diffView, &widgets::ProfileDiffView::compareRequested, this, [this](int a, int b) {
        compareProfiles(engine::kAllProfiles[static_cast<size_t>(a)],
                        engine::kAllProfiles[static_cast<size_t>(b)]);
    });
    connect(m_diffView, &widgets::ProfileDiffView::cancelRequested, this, [this] {
        if (m_diffJob->cancel) m_diffJob->cancel->store(true);
    });
    connect(m_diffView, &widgets::ProfileDiffView::layerSelected, this, &TraceTools::layerSelected);
    connect(m_diffView, &widgets::ProfileDiffView::elementClicked, this,
            [this](const QVector<int>& c) { traceElement(m_mapTensor, c, Source::Comparison); });
}

void TraceTools::showDock(QDockWidget* dock) {
    m_showingDock = true;  // no automatic trace / comparison from this show
    if (dock == m_traceDock && !dock->isVisible() && !dock->isFloating()) {
        // Beside the tensor views: half the bottom area each.
        dock->show();
        m_window->resizeDocks({m_window->tensorViewsDock(), dock},
                              {m_window->width() / 2, m_window->width() / 2}, Qt::Horizontal);
    }
    dock->show();
    dock->raise();
    m_showingDock = false;
}

void TraceTools::dockShown(QDockWidget* dock) {
    if (m_showingDock) return;
    // Opened from the menu: trace the selected output's element, or compare the chosen
    // profiles, so the dock does not open empty.
    if (dock == m_traceDock && m_tensor >= 0 && m_traceTensor != m_tensor &&
        m_traceView->traceButton()->isEnabled())
        traceElement(m_tensor, m_traceView->element());
    const RunOutcome* o = m_window->lastOutcome();
    if (dock == m_diffDock && !m_comparison && !m_diffJob->thread && o && o->ok() &&
        m_diffView->profileA() != m_diffView->profileB())
        compareProfiles(engine::kAllProfiles[static_cast<size_t>(m_diffView->profileA())],
                        engine::kAllProfiles[static_cast<size_t>(m_diffView->profileB())]);
}

TraceTools::~TraceTools() {
    cancel();
    waitForIdle();
}

void TraceTools::cancel() {
    for (Job* job : {m_valuesJob.get(), m_diffJob.get()}) {
        job->pending = {};
        if (job->cancel) job->cancel->store(true);
    }
}

bool TraceTools::busy() const {
    return m_valuesJob->thread || m_diffJob->thread;
}

void TraceTools::waitForIdle() {
    for (Job* job : {m_valuesJob.get(), m_diffJob.get()}) {
        while (job->thread) {
            job->thread->wait();
            finish(*job);
        }
    }
}

void TraceTools::launch(Job& job, Work work, std::function<void()> done) {
    if (job.thread) {
        job.cancel->store(true);
        job.pending = [this, &job, work, done] { launch(job, work, done); };
        return;
    }
    auto cancel = std::make_shared<std::atomic<bool>>(false);
    job.cancel = cancel;
    job.done = std::move(done);
    job.thread = QThread::create([work, cancel] { work(*cancel); });
    connect(job.thread, &QThread::finished, this, [this, &job] { finish(job); });
    job.thread->start(QThread::LowPriority);
}

void TraceTools::finish(Job& job) {
    if (!job.thread || !job.thread->isFinished()) return;
    job.thread->deleteLater();
    job.thread = nullptr;
    auto done = std::move(job.done);
    auto pending = std::move(job.pending);
    job.done = {};
    job.pending = {};
    if (pending) {
        pending();  // superseded: the finished job's result is dropped
        return;
    }
    if (done) done();
}

void TraceTools::postProgress(bool diff, const QString& what, int done, int total) {
    QMetaObject::invokeMethod(
        this,
        [this, diff, what, done, total] {
            if (diff && m_diffJob->thread) m_diffView->setBusy(what, done, total);
            if (!diff && m_valuesJob->thread) m_traceView->setBusy(what, done, total);
        },
        Qt::QueuedConnection);
}

// ---- selection and runs ---------------------------------------------------------------

void TraceTools::selectionShown(int op, int tensor) {
    const ModelDocument* doc = m_window->document();
    if (tensor < 0 && op >= 0 && doc) {
        const auto& ops =
            doc->model().subgraphs[static_cast<size_t>(m_window->currentSubgraph())].operators;
        if (static_cast<size_t>(op) < ops.size() && !ops[static_cast<size_t>(op)].outputs.empty())
            tensor = ops[static_cast<size_t>(op)].outputs.front().value;
    }
    m_op = op;
    m_tensor = tensor;
    updateTarget();
    updateMap();
}

void TraceTools::updateTarget() {
    const ModelDocument* doc = m_window->document();
    if (!doc || m_tensor < 0) {
        m_traceView->setTarget(QString(), {}, {});
        return;
    }
    const int sub = m_window->currentSubgraph();
    const auto& sg = doc->model().subgraphs[static_cast<size_t>(sub)];
    const auto& info = sg.tensors[static_cast<size_t>(m_tensor)];
    const QString name = QStringLiteral("tensor %1").arg(m_tensor);
    if (auto ok = etr::traceSupported(doc->model(), SubgraphId{sub}, TensorId{m_tensor}); !ok) {
        m_traceView->setTarget(name, {}, {});
        if (!m_traceView->hasTrace() || m_traceTensor != m_tensor)
            m_traceView->showMessage(fromStd(ok.error().message));
        return;
    }
    // The run's shape when it has the value (dynamic shapes), else the model's.
    std::vector<int32_t> shape = info.shape;
    if (m_values && static_cast<size_t>(m_tensor) < m_values->run->values.size() &&
        m_values->run->values[static_cast<size_t>(m_tensor)].valid())
        shape = m_values->run->values[static_cast<size_t>(m_tensor)].shape();
    QVector<int> dims(shape.begin(), shape.end());
    const QVector<int> at = m_traceTensor == m_tensor ? m_traceElement : m_traceView->element();
    m_traceView->setTarget(name, dims, at.size() == dims.size() ? at : QVector<int>(dims.size()));
    if (m_traceDock->isVisible() && m_traceTensor != m_tensor)
        traceElement(m_tensor, m_traceView->element());
}

void TraceTools::runFinished() {
    const RunOutcome* o = m_window->lastOutcome();
    const RunRequest& c = m_comparisonRequest;
    if (m_comparison &&
        (!o || o->request.document != c.document || o->request.subgraph != c.subgraph ||
         !sameInput(o->request.input, c.input))) {
        // Another model, subgraph or input: the comparison no longer applies.
        m_comparison.reset();
        m_mapTensor = -1;
        m_diffView->setTable({});
        m_diffView->showStatus(tr("Choose two profiles and press Compare"));
        m_diffView->showMapMessage(tr("Compare two profiles, then select a layer"));
    }
    if (o && m_traceTensor >= 0 &&
        (o->request.document.get() != m_traceDocument || o->request.subgraph != m_traceSubgraph)) {
        // Another model or subgraph: the traced element belongs to the old one.
        m_traceTensor = -1;
        m_traceWanted = false;
        m_trace.reset();
        m_values.reset();
        m_traceView->showMessage(
            tr("Click an element in an error heatmap, or select an op "
               "output and enter its coordinates"));
        updateTarget();
        return;
    }
    if (m_traceWanted ||
        (m_traceDock->isVisible() && m_traceTensor >= 0 && m_traceSource == Source::IntRun)) {
        m_traceWanted = false;
        traceElement(m_traceTensor, m_traceElement, m_traceSource);
    }
}

// ---- element trace ---------------------------------------------------------------------

void TraceTools::traceSelected(const QVector<int>& element) {
    traceElement(m_tensor, element, Source::IntRun);
}

void TraceTools::traceElement(int tensor, const QVector<int>& element, Source source) {
    m_traceDocument = m_window->document();
    m_traceSubgraph = m_window->currentSubgraph();
    m_traceTensor = tensor;
    m_traceElement = element;
    m_traceSource = source;
    m_trace.reset();
    showDock(m_traceDock);
    const ModelDocument* doc = m_window->document();
    if (!doc) {
        m_traceView->showMessage(tr("Open a model first"));
        emit traceShown();
        return;
    }
    const int sub = m_window->currentSubgraph();
    const auto& sg = doc->model().subgraphs[static_cast<size_t>(sub)];
    if (tensor < 0 || static_cast<size_t>(tensor) >= sg.tensors.size()) {
        m_traceView->showMessage(tr("Select an op output in the graph or the layer table"));
        emit traceShown();
        return;
    }
    if (auto ok = etr::traceSupported(doc->model(), SubgraphId{sub}, TensorId{tensor}); !ok) {
        m_traceView->showMessage(fromStd(ok.error().message));
        emit traceShown();
        return;
    }
    if (source == Source::Comparison && m_comparison) {
        showTrace(m_comparison->run_a,
                  tr("Inputs of the op from the %1 run of the profile comparison")
                      .arg(profileDisplayName(m_comparison->a)));
        return;
    }
    const RunOutcome* o = m_window->lastOutcome();
    if (!o || m_window->runs()->running()) {
        m_traceWanted = true;
        m_traceView->showMessage(tr("Waiting for the run to finish…"));
        return;
    }
    if (!o->ok()) {
        m_traceView->showMessage(tr("The run failed: %1").arg(o->error));
        emit traceShown();
        return;
    }
    if (m_values && m_values->generation == o->generation) {
        showTrace(*m_values->run, m_values->source);
        return;
    }
    startValuesRun();
}

void TraceTools::startValuesRun() {
    const RunOutcome* o = m_window->lastOutcome();
    const RunRequest request = o->request;
    const int generation = o->generation;
    struct Result {
        QString error;
        std::shared_ptr<engine::RunResult> run;
    };
    auto result = std::make_shared<Result>();
    m_traceView->setBusy(tr("Running the model to get the op's inputs…"), 0, 0);
    launch(
        *m_valuesJob,
        [this, request, result](const std::atomic<bool>& cancel) {
            const model::Model& m = request.document->model();
            auto inputs = firstSample(request, &result->error);
            if (!inputs) return;
            engine::RunOptions options;
            options.profile = request.profile;
            options.keep_values = true;
            ProgressThrottle throttle;
            options.progress = [&](int done, int total) {
                if (throttle.due(done, total))
                    postProgress(false, tr("Running the model to get the op's inputs…"), done,
                                 total);
                return !cancel.load();
            };
            auto run = engine::run(m, SubgraphId{request.subgraph}, *inputs, options);
            if (!run) {
                result->error = fromStd(run.error().message);
                return;
            }
            if (run->cancelled) {
                result->error = tr("Cancelled");
                return;
            }
            result->run = std::make_shared<engine::RunResult>(std::move(*run));
        },
        [this, result, generation, request] {
            m_traceView->clearBusy();
            if (!result->run) {
                m_traceView->showMessage(result->error);
                emit traceShown();
                return;
            }
            auto values = std::make_shared<Values>();
            values->generation = generation;
            values->run = result->run;
            values->source =
                tr("Inputs of the op from the int run (profile %1, input %2)")
                    .arg(profileDisplayName(request.profile), request.input.describe());
            m_values = std::move(values);
            const RunOutcome* now = m_window->lastOutcome();
            if (!now || now->generation != generation) return;  // a newer run: traced then
            updateTarget();
            traceElement(m_traceTensor, m_traceElement, m_traceSource);
        });
}

void TraceTools::showTrace(const engine::RunResult& run, const QString& source) {
    const ModelDocument* doc = m_window->document();
    std::vector<int32_t> element(m_traceElement.begin(), m_traceElement.end());
    auto t = etr::traceElement(doc->model(), SubgraphId{m_window->currentSubgraph()},
                               TensorId{m_traceTensor}, element, run);
    m_traceView->clearBusy();
    if (!t) {
        m_traceView->showMessage(fromStd(t.error().message));
        emit traceShown();
        return;
    }
    widgets::TraceViewData data = traceViewData(*t, source);
    if (m_traceSource == Source::Comparison && m_comparison && !t->outputs_differ) {
        // The element differs between the runs, but not on these inputs: the difference
        // was made upstream and carried here.
        const auto& a = m_comparison->run_a.values[static_cast<size_t>(m_traceTensor)];
        const auto& b = m_comparison->run_b.values[static_cast<size_t>(m_traceTensor)];
        if (auto d = etr::diffTensor(a, b);
            d && d->delta[static_cast<size_t>(t->flat_index)] != 0.0f)
            data.notes << tr("This element differs between the %1 and %2 runs, yet every profile "
                             "computes the same from the %1 run's inputs: the difference was "
                             "made upstream (see the first differing layer) and carried here.")
                              .arg(profileDisplayName(m_comparison->a),
                                   profileDisplayName(m_comparison->b));
    }
    // The spin boxes show the traced element (a click in a map chose it).
    if (m_traceTensor == m_tensor) updateTarget();
    m_traceView->setData(data);
    m_trace = std::move(*t);
    emit traceShown();
}

// ---- profile difference ----------------------------------------------------------------

void TraceTools::compareProfiles(engine::RoundingProfile a, engine::RoundingProfile b) {
    showDock(m_diffDock);
    QStringList names;
    for (const auto p : engine::kAllProfiles) names << profileDisplayName(p);
    auto indexOf = [](engine::RoundingProfile p) {
        for (size_t i = 0; i < engine::kAllProfiles.size(); ++i)
            if (engine::kAllProfiles[i] == p) return static_cast<int>(i);
        return 0;
    };
    m_diffView->setProfiles(names, indexOf(a), indexOf(b));
    const RunOutcome* o = m_window->lastOutcome();
    if (!m_window->document() || !o) {
        m_diffView->showStatus(tr("Open a model and wait for its run first"));
        emit comparisonShown();
        return;
    }
    if (a == b) {
        m_diffView->showStatus(tr("Choose two different profiles"));
        emit comparisonShown();
        return;
    }
    const RunRequest request = o->request;
    struct Result {
        QString error;
        std::shared_ptr<etr::ProfileComparison> comparison;
    };
    auto result = std::make_shared<Result>();
    m_diffView->setBusy(tr("Comparing %1 with %2…").arg(names[indexOf(a)], names[indexOf(b)]), 0,
                        0);
    launch(
        *m_diffJob,
        [this, request, result, a, b](const std::atomic<bool>& cancel) {
            const model::Model& m = request.document->model();
            auto inputs = firstSample(request, &result->error);
            if (!inputs) return;
            ProgressThrottle throttle;
            const QString what =
                tr("Running %1, then %2…").arg(profileDisplayName(a), profileDisplayName(b));
            auto c = etr::compareProfiles(m, SubgraphId{request.subgraph}, *inputs, a, b, 0,
                                          [&](int done, int total) {
                                              if (throttle.due(done, total))
                                                  postProgress(true, what, done, total);
                                              return !cancel.load();
                                          });
            if (!c) {
                result->error = fromStd(c.error().message);
                return;
            }
            if (c->cancelled) {
                result->error = tr("Comparison cancelled");
                return;
            }
            result->comparison = std::make_shared<etr::ProfileComparison>(std::move(*c));
        },
        [this, result, request] {
            m_diffView->clearBusy();
            if (!result->comparison) {
                m_diffView->showStatus(result->error);
                emit comparisonShown();
                return;
            }
            m_comparison = result->comparison;
            m_comparisonRequest = request;
            const auto& c = *m_comparison;
            m_diffView->setTable(diffTableData(c));
            int layers = 0;
            for (const auto& l : c.diff.layers) layers += l.differing > 0 ? 1 : 0;
            QString status =
                tr("%1 vs %2 (input %3): %4 of %5 elements differ in %6 of %7 op outputs")
                    .arg(profileDisplayName(c.a), profileDisplayName(c.b), request.input.describe())
                    .arg(c.diff.total_differing)
                    .arg(c.diff.total_compared)
                    .arg(layers)
                    .arg(c.diff.layers.size());
            if (c.diff.first_differing) {
                const auto& f = c.diff.layers[*c.diff.first_differing];
                status += tr("; first at op %1 %2").arg(f.op.value).arg(fromStd(f.op_name));
            } else {
                status += tr("; the profiles agree everywhere on this input");
            }
            for (const auto& w : c.run_a.warnings) status += QStringLiteral(" — ") + fromStd(w);
            m_diffView->showStatus(status);
            // With nothing selected, show the first differing layer.
            if (m_tensor < 0 && c.diff.first_differing)
                layerSelected(c.diff.layers[*c.diff.first_differing].op.value,
                              c.diff.layers[*c.diff.first_differing].tensor.value);
            else
                updateMap();
            emit comparisonShown();
        });
}

void TraceTools::layerSelected(int op, int tensor) {
    auto* view = m_window->graphPanel()->view();
    const int node = op >= 0 ? view->nodeForOp(op) : view->nodeForTensor(tensor);
    if (node >= 0) view->selectNode(node);  // the window then reports the selection
    if (m_tensor != tensor) {
        // A tensor without its own graph node (a second output): show it anyway.
        m_op = op;
        m_tensor = tensor;
        updateTarget();
        updateMap();
    }
}

void TraceTools::updateMap() {
    m_diffView->selectTensor(m_tensor);
    if (!m_comparison) return;
    const ModelDocument* doc = m_window->document();
    if (!doc || m_tensor < 0) {
        m_mapTensor = -1;
        m_diffView->showMapMessage(tr("Select a layer to see where its elements differ"));
        return;
    }
    auto data = diffPlotData(doc->model(), m_window->currentSubgraph(), m_tensor, m_comparison);
    if (!data) {
        m_mapTensor = -1;
        m_diffView->showMapMessage(fromStd(data.error().message));
        return;
    }
    m_mapTensor = m_tensor;
    const auto* row = m_diffView->model()->row(m_diffView->model()->rowForTensor(m_tensor));
    // Tensor names of converted models run to hundreds of characters: the map's caption
    // shows the index and an elided name, the tooltip the whole.
    QString name = (*data)->tensorName;
    if (name.size() > 60) name = name.left(28) + QStringLiteral("…") + name.right(28);
    QString caption = tr("<b>tensor %1</b> %2 — ").arg(m_tensor).arg(name.toHtmlEscaped());
    m_diffView->mapLabel()->setToolTip((*data)->tensorName);
    if (row && row->differing > 0)
        caption += tr("%1 of %2 elements differ, max |Δ| %3; click an element to trace it")
                       .arg(row->differing)
                       .arg(row->elements)
                       .arg(row->maxAbs);
    else
        caption += tr("no element differs");
    const int channels = (*data)->channels;
    const qint64 inner = (*data)->inner;
    m_diffView->setMap(*data, caption);
    // Open the map on the channel of the first differing element (the layout puts element i
    // in channel (i / inner) % channels, see TensorPlotData::index).
    if (row && row->differing > 0) {
        const auto& a = m_comparison->run_a.values[static_cast<size_t>(m_tensor)];
        const auto& b = m_comparison->run_b.values[static_cast<size_t>(m_tensor)];
        if (auto d = etr::diffTensor(a, b); d && !d->indices.empty())
            m_diffView->heatmap()->setChannel(
                static_cast<int>((d->indices.front() / inner) % channels));
    }
}

}  // namespace qs::app
