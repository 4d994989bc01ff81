#include "app/gui/main_window.h"

#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QCloseEvent>
#include <QComboBox>
#include <QCoreApplication>
#include <QDir>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QElapsedTimer>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QInputDialog>
#include <QLabel>
#include <QLineEdit>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QSplitter>
#include <QStackedWidget>
#include <QStatusBar>
#include <QToolBar>
#include <QVBoxLayout>

#include "app/gui/analysis_metrics.h"
#include "app/gui/lessons.h"
#include "app/gui/model_document.h"
#include "app/gui/playground_controller.h"
#include "app/gui/preprocess_lab.h"
#include "app/gui/tensor_view_data.h"
#include "app/gui/trace_tools.h"
#include "app/gui/workshop.h"
#include "engine/analysis/report.h"
#include "model/loader.h"
#include "widgets/graph/graph_items.h"
#include "widgets/graph/graph_panel.h"
#include "widgets/graph/graph_view.h"
#include "widgets/inspector/inspector_view.h"
#include "widgets/layers/layer_table_model.h"
#include "widgets/layers/layer_table_view.h"
#include "widgets/playground/lesson_panel.h"
#include "widgets/playground/playground_view.h"
#include "widgets/plots/tensor_views_panel.h"

// The .qrc is compiled into the static qs_app_gui library; its initializer must be referenced
// explicitly or the linker drops it. Q_INIT_RESOURCE has to be called outside any namespace.
static void initResources() {
    Q_INIT_RESOURCE(resources);
}

namespace qs::app {

namespace {

constexpr auto kRecentKey = "recentFiles";
constexpr auto kLastDirKey = "lastOpenDir";
constexpr auto kGeometryKey = "mainWindow/geometry";
constexpr auto kSplitterKey = "mainWindow/splitters";
constexpr auto kProfileKey = "run/profile";
constexpr auto kModeKey = "run/mode";
constexpr auto kMetricKey = "view/colourMetric";
constexpr auto kWorkshopKey = "view/workshopMode";
constexpr auto kSampleName = "resnet8_cifar_int8.tflite";

bool isModelFile(const QString& path) {
    return path.endsWith(QStringLiteral(".tflite"), Qt::CaseInsensitive) ||
           path.endsWith(QStringLiteral(".lite"), Qt::CaseInsensitive);
}

QString profileLabel(engine::RoundingProfile p) {
    return QString::fromLatin1(engine::profileName(p).data(),
                               static_cast<qsizetype>(engine::profileName(p).size()));
}

}  // namespace

QString bundledSamplePath() {
    // Installed layout first (bin/../share/quantscope/samples), then the source tree.
    const QString appDir = QCoreApplication::applicationDirPath();
    const QStringList candidates = {
        appDir + QStringLiteral("/../share/quantscope/samples/") + kSampleName,
        QStringLiteral(QS_SAMPLE_DIR "/") + kSampleName,
    };
    for (const QString& c : candidates) {
        if (QFileInfo::exists(c)) return QDir::cleanPath(c);
    }
    return {};
}

MainWindow::MainWindow(QWidget* parent)
    : QMainWindow(parent),
      m_runs(new RunController(this)),
      m_pages(new QStackedWidget(this)),
      m_header(new QLabel(this)),
      m_subgraphs(new QComboBox(this)),
      m_graph(new widgets::GraphPanel(this)),
      m_layers(new widgets::LayerTableView(this)),
      m_inspector(new widgets::InspectorView(this)),
      m_views(new widgets::TensorViewsPanel(this)),
      m_viewsDock(new QDockWidget(tr("Tensor views"), this)),
      m_progress(new QProgressBar(this)),
      m_cancel(new QPushButton(tr("Cancel"), this)) {
    initResources();
    setWindowTitle(QStringLiteral("Quantscope"));
    setWindowIcon(QIcon(QStringLiteral(":/icons/quantscope.svg")));
    setAcceptDrops(true);

    QSettings settings;
    m_profile = engine::parseProfile(settings.value(kProfileKey).toString().toStdString())
                    .value_or(engine::RoundingProfile::Reference);
    m_mode = settings.value(kModeKey).toString() == QLatin1String("local") ? ErrorMode::Local
                                                                           : ErrorMode::Accumulated;
    m_metric = settings.value(kMetricKey).toString();

    m_header->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_header->setWordWrap(true);
    m_subgraphs->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_subgraphs->setToolTip(tr("Subgraph (If/While bodies are separate subgraphs)"));
    connect(m_subgraphs, &QComboBox::currentIndexChanged, this, &MainWindow::showSubgraph);

    auto* left = new QSplitter(Qt::Vertical, this);
    left->addWidget(m_graph);
    left->addWidget(m_layers);
    left->setStretchFactor(0, 3);
    left->setStretchFactor(1, 2);
    auto* main = new QSplitter(Qt::Horizontal, this);
    main->addWidget(left);
    main->addWidget(m_inspector);
    main->setStretchFactor(0, 3);
    main->setStretchFactor(1, 1);
    main->setObjectName(QStringLiteral("mainSplitter"));
    left->setObjectName(QStringLiteral("leftSplitter"));
    main->setSizes({900, 380});
    left->setSizes({480, 300});

    auto* modelPage = new QWidget(this);
    auto* top = new QHBoxLayout;
    top->addWidget(m_header, 1);
    top->addWidget(m_subgraphs);
    auto* layout = new QVBoxLayout(modelPage);
    layout->setContentsMargins(4, 4, 4, 0);
    layout->addLayout(top);
    layout->addWidget(main, 1);

    m_pages->addWidget(createWelcomePage());
    m_pages->addWidget(modelPage);
    setCentralWidget(m_pages);
    // Heatmaps, per-channel bars, histograms and scatter of the selected tensor, below the
    // graph and table (a dock so it can be floated onto a second screen).
    m_viewsDock->setObjectName(QStringLiteral("tensorViewsDock"));
    m_viewsDock->setWidget(m_views);
    m_viewsDock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable |
                             QDockWidget::DockWidgetClosable);
    addDockWidget(Qt::BottomDockWidgetArea, m_viewsDock);
    // The quantization playground, tabbed with the tensor views; lessons on the right.
    m_playView = new widgets::PlaygroundView(this);
    m_playground = new PlaygroundController(m_playView, this);
    m_playDock = new QDockWidget(tr("Quantization playground"), this);
    m_playDock->setObjectName(QStringLiteral("playgroundDock"));
    m_playDock->setWidget(m_playView);
    tabifyDockWidget(m_viewsDock, m_playDock);
    // visibilityChanged also follows the dock's tab being raised or hidden.
    connect(m_playDock, &QDockWidget::visibilityChanged, m_playground,
            &PlaygroundController::setActive);
    m_viewsDock->raise();
    m_lessonPanel = new widgets::LessonPanel(this);
    m_lessonDock = new QDockWidget(tr("Lesson"), this);
    m_lessonDock->setObjectName(QStringLiteral("lessonDock"));
    m_lessonDock->setWidget(m_lessonPanel);
    addDockWidget(Qt::RightDockWidgetArea, m_lessonDock);
    setCorner(Qt::BottomRightCorner, Qt::RightDockWidgetArea);  // lesson text: full height
    m_lessonDock->hide();
    m_lessons = new LessonRunner(this, m_lessonPanel, m_lessonDock);

    m_progress->setMaximumWidth(220);
    m_progress->setTextVisible(true);
    m_progress->hide();
    m_cancel->hide();
    m_cancel->setToolTip(tr("Stop the running analysis (Esc)"));
    statusBar()->addPermanentWidget(m_progress);
    statusBar()->addPermanentWidget(m_cancel);
    connect(m_cancel, &QPushButton::clicked, this, &MainWindow::cancelRun);

    m_runs->setMetricSource(std::make_unique<AnalysisMetrics>());
    connect(m_runs, &RunController::started, this, &MainWindow::runStarted);
    connect(m_runs, &RunController::progress, this, &MainWindow::runProgress);
    connect(m_runs, &RunController::finished, this, &MainWindow::runDone);
    connect(m_graph->view(), &widgets::GraphView::nodeSelected, this, &MainWindow::nodeSelected);
    connect(m_layers, &widgets::LayerTableView::rowSelected, this, &MainWindow::rowSelected);
    connect(m_graph, &widgets::GraphPanel::metricChanged, this, &MainWindow::metricChosen);
    connect(m_graph->view(), &widgets::GraphView::painted, this, [this] {
        if (!m_awaitColouredPaint) return;
        m_awaitColouredPaint = false;
        emit graphPainted();
    });

    // Element trace beside the tensor views, profile difference map as their tab.
    m_traceTools = new TraceTools(this);
    createActions();
    createToolBar();
    statusBar()->showMessage(tr("Open a .tflite model with Ctrl+O, or drop one on this window"));

    if (settings.value(kWorkshopKey).toBool()) setWorkshopMode(true, false);
    if (!restoreGeometry(settings.value(kGeometryKey).toByteArray())) resize(1440, 960);
    resizeDocks({m_viewsDock}, {420}, Qt::Vertical);
    const QList<QVariant> sizes = settings.value(kSplitterKey).toList();
    if (sizes.size() == 2) {
        main->restoreState(sizes[0].toByteArray());
        left->restoreState(sizes[1].toByteArray());
    }
}

MainWindow::~MainWindow() {
    // The workers must be gone before this window's members are; their last signals are dropped.
    delete m_traceTools;
    m_traceTools = nullptr;
    m_runs->disconnect(this);
    m_runs->cancel();
    m_runs->waitForIdle();
}

QWidget* MainWindow::createWelcomePage() {
    auto* page = new QWidget(this);
    auto* title = new QLabel(tr("<h2>Quantscope</h2><p>See where and why a quantized TensorFlow "
                                "Lite model disagrees with its float original.</p>"
                                "<p>Open a <b>.tflite</b> file (Ctrl+O) or drop one here.</p>"),
                             page);
    title->setAlignment(Qt::AlignCenter);
    auto* openButton = new QPushButton(tr("Open model…"), page);
    connect(openButton, &QPushButton::clicked, this, &MainWindow::openDialog);
    auto* sampleButton = new QPushButton(tr("Open bundled sample (ResNet-8 CIFAR-10, int8)"), page);
    sampleButton->setEnabled(!bundledSamplePath().isEmpty());
    connect(sampleButton, &QPushButton::clicked, this, [this] { openModel(bundledSamplePath()); });

    auto* buttons = new QHBoxLayout;
    buttons->addStretch();
    buttons->addWidget(openButton);
    buttons->addWidget(sampleButton);
    buttons->addStretch();
    auto* layout = new QVBoxLayout(page);
    layout->addStretch();
    layout->addWidget(title);
    layout->addLayout(buttons);
    layout->addStretch();
    return page;
}

void MainWindow::createActions() {
    QMenu* file = menuBar()->addMenu(tr("&File"));
    QAction* open = file->addAction(tr("&Open…"), this, &MainWindow::openDialog);
    open->setShortcut(QKeySequence::Open);
    file->addAction(tr("Open &Float Reference…"), this, &MainWindow::openFloatDialog);
    m_recentMenu = file->addMenu(tr("Open &Recent"));
    file->addSeparator();
    QMenu* input = file->addMenu(tr("&Input"));
    m_randomInput = input->addAction(tr("Seeded &Random"), this, [this] { setInputFiles({}); });
    m_randomInput->setCheckable(true);
    m_randomInput->setChecked(true);
    input->addAction(tr("&Seed…"), this, &MainWindow::chooseSeed);
    QAction* chooseInput =
        input->addAction(tr("&Choose Input… (image or .npy)"), this, &MainWindow::chooseInputFiles);
    chooseInput->setShortcut(Qt::CTRL | Qt::Key_I);
    input->addAction(tr("&Folder as Dataset…"), this, [this] {
        QSettings settings;
        const QString dir = QFileDialog::getExistingDirectory(
            this, tr("Choose a folder of .npy files or images (one sample each)"),
            settings.value(kLastDirKey, QDir::homePath()).toString());
        if (!dir.isEmpty()) setInputFiles({dir});
    });
    file->addSeparator();
    file->addAction(tr("&Export Graph as PNG/SVG…"), this, &MainWindow::exportGraphDialog);
    file->addAction(tr("Export &Report (CSV/JSON)…"), this, &MainWindow::exportReportDialog);
    file->addSeparator();
    QAction* quit = file->addAction(tr("&Quit"), this, &QWidget::close);
    quit->setShortcut(QKeySequence::Quit);

    QMenu* edit = menuBar()->addMenu(tr("&Edit"));
    QAction* find = edit->addAction(tr("&Find…"), this, [this] {
        m_search->setFocus(Qt::ShortcutFocusReason);
        m_search->selectAll();
    });
    find->setShortcut(QKeySequence::Find);
    QAction* next = edit->addAction(tr("Find &Next"), this, &MainWindow::findNext);
    next->setShortcut(QKeySequence::FindNext);
    edit->addAction(tr("&Copy Rows as CSV"), m_layers, &widgets::LayerTableView::copySelection);

    QMenu* view = menuBar()->addMenu(tr("&View"));
    QAction* fit = view->addAction(tr("&Fit Graph"), this, &MainWindow::fitGraph);
    fit->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_0));
    QAction* zoomIn =
        view->addAction(tr("Zoom &In"), this, [this] { m_graph->view()->zoomBy(1.25); });
    zoomIn->setShortcut(QKeySequence::ZoomIn);
    QAction* zoomOut =
        view->addAction(tr("Zoom &Out"), this, [this] { m_graph->view()->zoomBy(0.8); });
    zoomOut->setShortcut(QKeySequence::ZoomOut);
    view->addSeparator();
    QAction* views = m_viewsDock->toggleViewAction();
    views->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_T));
    view->addAction(views);
    QAction* trace = m_traceTools->traceDock()->toggleViewAction();
    trace->setText(tr("&Element Trace"));
    trace->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_E));
    trace->setToolTip(tr("The integer arithmetic of one output element under every profile"));
    view->addAction(trace);
    QAction* diff = m_traceTools->diffDock()->toggleViewAction();
    diff->setText(tr("Profile &Difference Map"));
    diff->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_D));
    diff->setToolTip(tr("Where two rounding profiles give different integers, layer by layer"));
    view->addAction(diff);
    view->addAction(tr("Select &Worst Tensor"), this, &MainWindow::selectWorstTensor)
        ->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_W));
    QAction* play = m_playDock->toggleViewAction();
    play->setText(tr("Quantization &Playground"));
    play->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_P));
    view->addAction(play);
    view->addSeparator();
    m_workshopAction = view->addAction(tr("Wor&kshop Mode (large fonts, high contrast)"), this,
                                       [this](bool on) { setWorkshopMode(on); });
    m_workshopAction->setCheckable(true);
    m_workshopAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_W));

    QMenu* tools = menuBar()->addMenu(tr("&Tools"));
    tools->addAction(tr("&Preprocessing Lab…"), this, [this] { openPreprocessingLab(); })
        ->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_L));

    QMenu* run = menuBar()->addMenu(tr("&Run"));
    QAction* rerunAction = run->addAction(tr("&Rerun"), this, &MainWindow::rerun);
    rerunAction->setShortcut(QKeySequence::Refresh);  // F5
    QAction* cancel = run->addAction(tr("&Cancel"), this, &MainWindow::cancelRun);
    cancel->setShortcut(QKeySequence(Qt::Key_Escape));

    QMenu* help = menuBar()->addMenu(tr("&Help"));
    QMenu* lessons = help->addMenu(tr("&Lessons"));
    for (int i = 0; i < m_lessons->lessons().size(); ++i) {
        lessons->addAction(QStringLiteral("&%1 %2").arg(i + 1).arg(m_lessons->lessons()[i].title),
                           this, [this, i] {
                               QString error;
                               if (!m_lessons->start(i, &error))
                                   showError(tr("Cannot start the lesson"), error);
                           });
    }
    lessons->setEnabled(!m_lessons->lessons().isEmpty());
    help->addSeparator();
    help->addAction(tr("&About Quantscope"), this, &MainWindow::showAbout);
    rebuildRecentMenu();
}

void MainWindow::createToolBar() {
    QToolBar* bar = addToolBar(tr("Run"));
    bar->setObjectName(QStringLiteral("runToolBar"));
    bar->setMovable(false);
    bar->addWidget(new QLabel(tr(" Profile: "), bar));
    m_profileBox = new QComboBox(bar);
    for (const auto p : engine::kAllProfiles)
        m_profileBox->addItem(profileLabel(p), static_cast<int>(p));
    m_profileBox->setCurrentIndex(m_profileBox->findData(static_cast<int>(m_profile)));
    m_profileBox->setToolTip(tr("Which runtime's integer arithmetic to reproduce"));
    connect(m_profileBox, &QComboBox::currentIndexChanged, this, [this](int i) {
        setProfile(static_cast<engine::RoundingProfile>(m_profileBox->itemData(i).toInt()));
    });
    bar->addWidget(m_profileBox);
    bar->addWidget(new QLabel(tr("  Error: "), bar));
    m_modeBox = new QComboBox(bar);
    m_modeBox->addItem(tr("accumulated"), static_cast<int>(ErrorMode::Accumulated));
    m_modeBox->addItem(tr("local"), static_cast<int>(ErrorMode::Local));
    m_modeBox->setCurrentIndex(m_mode == ErrorMode::Local ? 1 : 0);
    m_modeBox->setToolTip(
        tr("accumulated: error built up from the input to each tensor; "
           "local: error each op adds by itself"));
    connect(m_modeBox, &QComboBox::currentIndexChanged, this, [this](int i) {
        setErrorMode(static_cast<ErrorMode>(m_modeBox->itemData(i).toInt()));
    });
    bar->addWidget(m_modeBox);
    bar->addWidget(new QLabel(tr("  Input: "), bar));
    m_inputLabel = new QLabel(bar);
    bar->addWidget(m_inputLabel);
    updateInputLabel();
    bar->addSeparator();
    auto* spacer = new QWidget(bar);
    spacer->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Preferred);
    bar->addWidget(spacer);
    m_search = new QLineEdit(bar);
    m_search->setPlaceholderText(tr("Find op or tensor (Ctrl+F, Enter: next)"));
    m_search->setClearButtonEnabled(true);
    m_search->setMinimumWidth(260);
    connect(m_search, &QLineEdit::returnPressed, this, &MainWindow::findNext);
    bar->addWidget(m_search);
}

void MainWindow::updateInputLabel() {
    if (!m_inputLabel) return;
    m_inputLabel->setText(m_input.describe());
    if (m_randomInput) m_randomInput->setChecked(m_input.isRandom());
}

void MainWindow::openDialog() {
    QSettings settings;
    const QString dir = settings.value(kLastDirKey, QDir::homePath()).toString();
    const QString path =
        QFileDialog::getOpenFileName(this, tr("Open TensorFlow Lite model"), dir,
                                     tr("TensorFlow Lite models (*.tflite *.lite);;All files (*)"));
    if (path.isEmpty()) return;
    settings.setValue(kLastDirKey, QFileInfo(path).absolutePath());
    openModel(path);
}

void MainWindow::openFloatDialog() {
    QSettings settings;
    const QString path =
        QFileDialog::getOpenFileName(this, tr("Open float reference model"),
                                     settings.value(kLastDirKey, QDir::homePath()).toString(),
                                     tr("TensorFlow Lite models (*.tflite *.lite);;All files (*)"));
    if (!path.isEmpty()) openFloatModel(path);
}

void MainWindow::chooseInputFiles() {
    QSettings settings;
    const QStringList files = QFileDialog::getOpenFileNames(
        this, tr("Choose one image or .npy file per model input, in input order"),
        settings.value(kLastDirKey, QDir::homePath()).toString(),
        tr("Images and NumPy arrays (*.png *.jpg *.jpeg *.bmp *.npy);;All files (*)"));
    if (!files.isEmpty()) setInputFiles(files);
}

void MainWindow::chooseSeed() {
    bool ok = false;
    const int seed = QInputDialog::getInt(this, tr("Random input"), tr("Seed:"),
                                          static_cast<int>(m_input.seed), 0, INT_MAX, 1, &ok);
    if (ok) setSeed(static_cast<quint64>(seed));
}

bool MainWindow::openModel(const QString& path, bool interactive) {
    m_interactive = interactive;
    auto doc = ModelDocument::open(path);
    if (!doc) {
        showError(tr("Cannot open model"), QString::fromStdString(doc.error().message));
        return false;
    }
    m_runs->cancel();
    m_document = std::move(*doc);
    m_outcome.reset();
    const auto& model = m_document->model();
    setWindowTitle(QStringLiteral("%1 — Quantscope").arg(m_document->fileName()));
    emit modelLoaded();

    m_subgraphs->blockSignals(true);
    m_subgraphs->clear();
    for (size_t i = 0; i < model.subgraphs.size(); ++i) {
        const auto& name = model.subgraphs[i].name;
        m_subgraphs->addItem(name.empty()
                                 ? tr("Subgraph %1").arg(i)
                                 : tr("Subgraph %1: %2").arg(i).arg(QString::fromStdString(name)));
    }
    m_subgraphs->setVisible(model.subgraphs.size() > 1);
    m_subgraphs->setCurrentIndex(0);
    m_subgraphs->blockSignals(false);
    m_pages->setCurrentIndex(1);

    addRecentFile(QFileInfo(path).absoluteFilePath());
    QString status = tr("Opened %1").arg(QDir::toNativeSeparators(path));
    if (!model.warnings.empty()) {
        status += tr(" — %n warning(s): ", nullptr, static_cast<int>(model.warnings.size())) +
                  QString::fromStdString(model.warnings.front());
    }
    statusBar()->showMessage(status);
    showSubgraph(0);
    return true;
}

bool MainWindow::openFloatModel(const QString& path, bool interactive) {
    m_interactive = interactive;
    auto loaded = model::loadModel(path.toStdString());
    if (!loaded) {
        showError(tr("Cannot open float model"), QString::fromStdString(loaded.error().message));
        return false;
    }
    m_floatModel = std::make_shared<const model::Model>(std::move(*loaded));
    m_floatPath = path;
    if (m_lab) m_lab->setReference(m_profile, m_floatModel);
    statusBar()->showMessage(tr("Float reference: %1").arg(QDir::toNativeSeparators(path)));
    rerun();
    return true;
}

void MainWindow::setInputFiles(const QStringList& files) {
    setInput(InputSpec::fromPaths(files, m_input.seed));
}

void MainWindow::setInput(const InputSpec& spec) {
    const quint64 seed = m_input.seed;
    m_input = spec;
    if (!m_input.isRandom()) m_input.seed = seed;
    updateInputLabel();
    rerun();
}

PreprocessLab* MainWindow::openPreprocessingLab(const QString& image) {
    if (!m_lab) {
        m_lab = new PreprocessLab(this);
        connect(this, &MainWindow::modelLoaded, m_lab, [this] { m_lab->setDocument(m_document); });
        connect(m_lab, &PreprocessLab::useAsInput, this, &MainWindow::setInput);
        m_lab->setDocument(m_document);
    }
    m_lab->setReference(m_profile, m_floatModel);
    if (!image.isEmpty())
        m_lab->openImage(image);
    else if (m_lab->imagePath().isEmpty() && m_input.paths.size() == 1 &&
             m_input.kind == InputSpec::Kind::Files)
        m_lab->openImage(m_input.paths.front());
    m_lab->show();
    m_lab->raise();
    return m_lab;
}

void MainWindow::setSeed(quint64 seed) {
    m_input = InputSpec::fromPaths({}, seed);
    updateInputLabel();
    rerun();
}

void MainWindow::setProfile(engine::RoundingProfile profile, bool persist) {
    const bool changed = profile != m_profile;
    m_profile = profile;
    if (persist) QSettings().setValue(kProfileKey, profileLabel(profile));
    if (m_lab) m_lab->setReference(m_profile, m_floatModel);
    if (m_profileBox) {
        QSignalBlocker block(m_profileBox);
        m_profileBox->setCurrentIndex(m_profileBox->findData(static_cast<int>(profile)));
    }
    if (changed) rerun();
}

void MainWindow::setErrorMode(ErrorMode mode, bool persist) {
    const bool changed = mode != m_mode;
    m_mode = mode;
    if (persist)
        QSettings().setValue(kModeKey, mode == ErrorMode::Local ? QStringLiteral("local")
                                                                : QStringLiteral("accumulated"));
    if (m_modeBox) {
        QSignalBlocker block(m_modeBox);
        m_modeBox->setCurrentIndex(mode == ErrorMode::Local ? 1 : 0);
    }
    if (changed) rerun();
}

void MainWindow::showSubgraph(int index) {
    if (!m_document || index < 0) return;
    m_runs->cancel();
    m_subgraph = index;
    m_outcome.reset();
    m_selectedOp = m_selectedTensor = -1;
    m_header->setText(QStringLiteral("<b>%1</b> — %2")
                          .arg(m_document->fileName().toHtmlEscaped(),
                               m_document->summary(index).toHtmlEscaped()));
    refreshViews(true);
    m_inspector->clear();
    rerun();
}

void MainWindow::refreshViews(bool relayout) {
    if (!m_document) return;
    const RunOutcome* outcome = m_outcome.get();
    QStringList metricNames;
    QVector<widgets::MetricColumn> columns;
    if (outcome) {
        for (const auto& c : outcome->metrics.columns) {
            metricNames << c.name;
            columns << c;
        }
    }
    if (!metricNames.isEmpty() && !metricNames.contains(m_metric)) {
        // Default colour metric: SQNR when there is one.
        m_metric = metricNames.filter(QStringLiteral("SQNR")).value(0, metricNames.front());
    }
    m_graph->setMetricNames(metricNames, m_metric);
    const widgets::GraphModel g = m_document->graph(m_subgraph, outcome, m_metric);
    if (relayout) {
        m_graph->view()->setGraph(g);
        emit graphLaidOut();
    } else {
        m_graph->view()->updateGraph(g);
    }
    m_graph->refreshLegend();
    m_layers->setRows(columns, m_document->layerRows(m_subgraph, outcome), m_metric);
    m_syncing = true;
    if (m_selectedOp >= 0 || m_selectedTensor >= 0) {
        auto* view = m_graph->view();
        view->selectNode(m_selectedOp >= 0 ? view->nodeForOp(m_selectedOp)
                                           : view->nodeForTensor(m_selectedTensor),
                         false);
        m_layers->selectTensor(m_selectedTensor, m_selectedOp);
        showInspector(m_selectedOp, m_selectedTensor);
    }
    m_syncing = false;
}

void MainWindow::rerun() {
    if (!m_document) return;
    RunRequest r;
    r.document = m_document;
    r.floatModel = m_floatModel;
    r.subgraph = m_subgraph;
    r.profile = m_profile;
    r.mode = m_mode;
    r.input = m_input;
    m_runs->start(std::move(r));
}

void MainWindow::cancelRun() {
    m_runs->cancel();
}

void MainWindow::runStarted(int) {
    m_progress->setRange(0, 0);  // busy until the first progress report
    m_progress->setFormat(tr("Running"));
    m_progress->show();
    m_cancel->show();
}

void MainWindow::runProgress(int done, int total, const QString& phase) {
    m_progress->setRange(0, std::max(total, 1));
    m_progress->setValue(done);
    m_progress->setFormat(QStringLiteral("%1 %v/%m").arg(phase));
}

void MainWindow::runDone(std::shared_ptr<const RunOutcome> outcome) {
    m_progress->hide();
    m_cancel->hide();
    if (!outcome || outcome->request.document != m_document ||
        outcome->request.subgraph != m_subgraph) {
        return;  // a run for a model or subgraph no longer shown
    }
    m_outcome = outcome;
    m_awaitColouredPaint = true;
    refreshViews(false);
    if (!outcome->ok()) {
        showError(tr("Run failed"), outcome->error);
    } else {
        QString status;
        if (outcome->cancelled) {
            status =
                tr("Run cancelled after %1 of %2 ops").arg(outcome->opsRun).arg(outcome->opsTotal);
        } else {
            status =
                tr("Ran %1/%2 ops in %3 ms (%4, input %5)")
                    .arg(outcome->opsRun)
                    .arg(outcome->opsTotal)
                    .arg(outcome->runMs + outcome->metricsMs, 0, 'f', 0)
                    .arg(profileLabel(outcome->request.profile), outcome->request.input.describe());
            if (outcome->sampleNames.size() > 1)
                status += tr(" — %1 samples, averaged").arg(outcome->sampleNames.size());
            if (!outcome->inputSummary.isEmpty())
                status += QStringLiteral(" — ") + outcome->inputSummary;
            if (outcome->stoppedAt >= 0 && !outcome->warnings.isEmpty()) {
                status += QStringLiteral(" — ") + outcome->warnings.front();
            }
            if (!outcome->analysisError.isEmpty())
                status += tr(" — no error analysis: %1").arg(outcome->analysisError);
        }
        statusBar()->showMessage(status);
    }
    emit runFinished();
}

void MainWindow::nodeSelected(int node, int op, int tensor) {
    if (m_syncing) return;
    m_syncing = true;
    m_selectedOp = op;
    m_selectedTensor = tensor;
    if (node >= 0) m_layers->selectTensor(tensor, op);
    showInspector(op, tensor);
    m_syncing = false;
}

void MainWindow::rowSelected(int op, int tensor) {
    if (m_syncing) return;
    m_syncing = true;
    m_selectedOp = op;
    m_selectedTensor = tensor;
    auto* view = m_graph->view();
    view->selectNode(op >= 0 ? view->nodeForOp(op) : view->nodeForTensor(tensor));
    showInspector(op, tensor);
    m_syncing = false;
}

void MainWindow::showInspector(int op, int tensor) {
    showTensorViews(op, tensor);
    emit selectionShown(op, tensor);
    m_playground->setSelection(m_document, m_subgraph, op, tensor, m_outcome);
    if (!m_document || (op < 0 && tensor < 0)) {
        m_inspector->clear();
        return;
    }
    m_inspector->setData(m_document->inspect(m_subgraph, op, tensor, m_outcome.get()));
}

void MainWindow::showTensorViews(int op, int tensor) {
    if (tensor < 0 && op >= 0 && m_document) {
        const auto& ops = m_document->model().subgraphs[static_cast<size_t>(m_subgraph)].operators;
        if (static_cast<size_t>(op) < ops.size() && !ops[static_cast<size_t>(op)].outputs.empty())
            tensor = ops[static_cast<size_t>(op)].outputs.front().value;
    }
    if (tensor == m_viewsTensor && m_outcome.get() == m_viewsOutcome && m_metric == m_viewsMetric)
        return;
    m_viewsTensor = tensor;
    m_viewsOutcome = m_outcome.get();
    m_viewsMetric = m_metric;
    if (!m_document || tensor < 0) {
        m_views->showMessage(tr("Select a tensor in the graph or the layer table"));
        return;
    }
    if (!m_outcome) {
        m_views->showMessage(tr("Waiting for the run to finish…"));
        return;
    }
    QElapsedTimer timer;
    timer.start();
    auto data = tensorPlotData(m_document->model(), m_subgraph, tensor, op, *m_outcome, m_metric,
                               &m_planesPool);
    if (!data) {
        m_views->showMessage(QString::fromStdString(data.error().message));
        return;
    }
    m_views->setData(std::move(*data));
    m_viewsMs = static_cast<double>(timer.nsecsElapsed()) / 1e6;
    emit tensorViewsShown(tensor, m_viewsMs);
}

bool MainWindow::selectWorstTensor() {
    if (!m_outcome) return false;
    const int tensor = worstTensor(*m_outcome, m_metric);
    if (tensor < 0) return false;
    auto* view = m_graph->view();
    const int node = view->nodeForTensor(tensor);
    if (node < 0) return false;
    view->selectNode(node);
    if (auto* item = view->nodeItem(node)) view->centerOn(item);
    return true;
}

void MainWindow::metricChosen(const QString& name) {
    m_metric = name;
    QSettings().setValue(kMetricKey, name);
    refreshViews(false);
}

void MainWindow::fitGraph() {
    m_graph->view()->fitAll();
}

void MainWindow::findNext() {
    const QString text = m_search->text().trimmed();
    if (text.isEmpty()) return;
    if (m_graph->view()->findNext(text) < 0)
        statusBar()->showMessage(tr("No op or tensor matches “%1”").arg(text));
}

bool MainWindow::selectTensorByName(const QString& name) {
    if (!m_document) return false;
    const auto& sg = m_document->model().subgraphs[static_cast<size_t>(m_subgraph)];
    for (size_t i = 0; i < sg.tensors.size(); ++i) {
        if (QString::fromStdString(sg.tensors[i].name) != name) continue;
        auto* view = m_graph->view();
        const int node = view->nodeForTensor(static_cast<int>(i));
        if (node < 0) return false;
        view->selectNode(node);
        if (auto* item = view->nodeItem(node)) view->centerOn(item);
        return true;
    }
    return false;
}

bool MainWindow::exportGraph(const QString& path, QString* error) {
    return m_graph->view()->exportImage(path, error);
}

void MainWindow::exportGraphDialog() {
    if (!m_document) return;
    QSettings settings;
    const QString base = QFileInfo(m_document->path()).completeBaseName();
    const QString path =
        QFileDialog::getSaveFileName(this, tr("Export graph"),
                                     settings.value(kLastDirKey, QDir::homePath()).toString() +
                                         QLatin1Char('/') + base + QStringLiteral(".svg"),
                                     tr("SVG image (*.svg);;PNG image (*.png)"));
    if (path.isEmpty()) return;
    QString error;
    if (!exportGraph(path, &error)) {
        showError(tr("Cannot export graph"), tr("%1: %2").arg(path, error));
    } else {
        statusBar()->showMessage(tr("Graph exported to %1").arg(QDir::toNativeSeparators(path)));
    }
}

bool MainWindow::exportReport(const QString& path, QString* error) {
    namespace an = engine::analysis;
    const auto* analysis = m_outcome ? m_outcome->metrics.analysis.get() : nullptr;
    if (!analysis) {
        *error = tr("no error analysis yet (wait for the run to finish)");
        return false;
    }
    an::ReportContext ctx;
    ctx.quant = &m_document->model();
    ctx.float_model = m_outcome->request.floatModel.get();
    ctx.model_path = m_document->path().toStdString();
    ctx.float_model_path = m_floatModel ? m_floatPath.toStdString() : std::string();
    for (const QString& name : m_outcome->sampleNames)
        ctx.sample_names.push_back(name.toStdString());
    std::string contents;
    const QString name = QFileInfo(path).fileName().toLower();
    if (name.endsWith(QLatin1String(".model-explorer.json"))) {
        const auto* def = engine::analysis::findMetric("sqnr_db");
        auto me = an::modelExplorerReport(*analysis, ctx, def ? def->name : "sqnr_db", false);
        if (!me) {
            *error = QString::fromStdString(me.error().message);
            return false;
        }
        contents = std::move(*me);
    } else if (name.endsWith(QLatin1String(".json"))) {
        contents = an::jsonReport(*analysis, ctx);
    } else if (name.endsWith(QLatin1String(".per-channel.csv"))) {
        contents = an::perChannelCsvReport(*analysis, ctx);
    } else {
        contents = an::csvReport(*analysis, ctx);
    }
    if (auto w = an::writeReportFile(path.toStdString(), contents); !w) {
        *error = QString::fromStdString(w.error().message);
        return false;
    }
    return true;
}

void MainWindow::exportReportDialog() {
    if (!m_document) return;
    QSettings settings;
    const QString base = QFileInfo(m_document->path()).completeBaseName();
    QString filter;
    const QString path = QFileDialog::getSaveFileName(
        this, tr("Export report"),
        settings.value(kLastDirKey, QDir::homePath()).toString() + QLatin1Char('/') + base +
            QStringLiteral(".csv"),
        tr("Per-tensor CSV (*.csv);;Per-channel CSV (*.per-channel.csv);;JSON report (*.json);;"
           "Model Explorer node data (*.model-explorer.json)"),
        &filter);
    if (path.isEmpty()) return;
    QString error;
    if (!exportReport(path, &error)) {
        showError(tr("Cannot export report"), tr("%1: %2").arg(path, error));
    } else {
        statusBar()->showMessage(tr("Report written to %1").arg(QDir::toNativeSeparators(path)));
    }
}

void MainWindow::showError(const QString& title, const QString& message) {
    statusBar()->showMessage(tr("Error: %1").arg(message));
    if (m_interactive) QMessageBox::critical(this, title, message);
}

QStringList MainWindow::recentFiles() const {
    return QSettings().value(kRecentKey).toStringList();
}

void MainWindow::addRecentFile(const QString& path) {
    QStringList files = recentFiles();
    files.removeAll(path);
    files.prepend(path);
    while (files.size() > kMaxRecentFiles) files.removeLast();
    QSettings().setValue(kRecentKey, files);
    rebuildRecentMenu();
}

void MainWindow::rebuildRecentMenu() {
    m_recentMenu->clear();
    const QStringList files = recentFiles();
    for (int i = 0; i < files.size(); ++i) {
        const QString& path = files[i];
        QAction* a = m_recentMenu->addAction(
            QStringLiteral("&%1 %2").arg((i + 1) % 10).arg(QFileInfo(path).fileName()));
        a->setToolTip(path);
        a->setStatusTip(path);
        connect(a, &QAction::triggered, this, [this, path] { openModel(path); });
    }
    if (!files.isEmpty()) {
        m_recentMenu->addSeparator();
        m_recentMenu->addAction(tr("Clear Recent Files"), this, [this] {
            QSettings().remove(kRecentKey);
            rebuildRecentMenu();
        });
    }
    m_recentMenu->setEnabled(!files.isEmpty());
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
    const auto urls = event->mimeData()->urls();
    if (urls.size() == 1 && urls.front().isLocalFile() && isModelFile(urls.front().toLocalFile())) {
        event->acceptProposedAction();
    }
}

void MainWindow::dropEvent(QDropEvent* event) {
    const auto urls = event->mimeData()->urls();
    if (urls.isEmpty()) return;
    event->acceptProposedAction();
    openModel(urls.front().toLocalFile());
}

void MainWindow::closeEvent(QCloseEvent* event) {
    m_runs->cancel();
    m_runs->waitForIdle();
    QSettings settings;
    settings.setValue(kGeometryKey, saveGeometry());
    const auto* main = findChild<QSplitter*>(QStringLiteral("mainSplitter"));
    const auto* left = findChild<QSplitter*>(QStringLiteral("leftSplitter"));
    if (main && left)
        settings.setValue(kSplitterKey, QList<QVariant>{main->saveState(), left->saveState()});
    event->accept();
}

void MainWindow::setWorkshopMode(bool on, bool persist) {
    m_workshop = on;
    applyWorkshopStyle(on);
    if (m_workshopAction) {
        QSignalBlocker block(m_workshopAction);
        m_workshopAction->setChecked(on);
    }
    if (persist) QSettings().setValue(kWorkshopKey, on);
    // Node sizes follow the font: lay the graph out again.
    refreshViews(true);
}

void MainWindow::showAbout() {
    QMessageBox::about(this, tr("About Quantscope"),
                       tr("<b>Quantscope %1</b><p>Shows where and why a quantized TensorFlow Lite "
                          "model disagrees with its float original.</p>")
                           .arg(QStringLiteral(QS_VERSION)));
}

}  // namespace qs::app
