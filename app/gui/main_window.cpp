#include "app/gui/main_window.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QComboBox>
#include <QCoreApplication>
#include <QDir>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QPushButton>
#include <QSettings>
#include <QStackedWidget>
#include <QStatusBar>
#include <QVBoxLayout>

#include "app/gui/model_document.h"
#include "widgets/ops/op_table_view.h"

// The .qrc is compiled into the static qs_app_gui library; its initializer must be referenced
// explicitly or the linker drops it. Q_INIT_RESOURCE has to be called outside any namespace.
static void initResources() { Q_INIT_RESOURCE(resources); }

namespace qs::app {

namespace {

constexpr auto kRecentKey = "recentFiles";
constexpr auto kLastDirKey = "lastOpenDir";
constexpr auto kGeometryKey = "mainWindow/geometry";
constexpr auto kSampleName = "resnet8_cifar_int8.tflite";

bool isModelFile(const QString& path) {
    return path.endsWith(QStringLiteral(".tflite"), Qt::CaseInsensitive) ||
           path.endsWith(QStringLiteral(".lite"), Qt::CaseInsensitive);
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
      m_pages(new QStackedWidget(this)),
      m_header(new QLabel(this)),
      m_subgraphs(new QComboBox(this)),
      m_opTable(new widgets::OpTableView(this)) {
    initResources();
    setWindowTitle(QStringLiteral("Quantscope"));
    setWindowIcon(QIcon(QStringLiteral(":/icons/quantscope.svg")));
    setAcceptDrops(true);

    m_header->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_header->setWordWrap(true);
    m_subgraphs->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_subgraphs->setToolTip(tr("Subgraph (If/While bodies are separate subgraphs)"));
    connect(m_subgraphs, &QComboBox::currentIndexChanged, this, &MainWindow::showSubgraph);

    auto* modelPage = new QWidget(this);
    auto* top = new QHBoxLayout;
    top->addWidget(m_header, 1);
    top->addWidget(m_subgraphs);
    auto* layout = new QVBoxLayout(modelPage);
    layout->addLayout(top);
    layout->addWidget(m_opTable, 1);

    m_pages->addWidget(createWelcomePage());
    m_pages->addWidget(modelPage);
    setCentralWidget(m_pages);

    createActions();
    statusBar()->showMessage(tr("Open a .tflite model with Ctrl+O, or drop one on this window"));

    QSettings settings;
    if (!restoreGeometry(settings.value(kGeometryKey).toByteArray())) resize(1280, 800);
}

MainWindow::~MainWindow() = default;

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
    m_recentMenu = file->addMenu(tr("Open &Recent"));
    file->addSeparator();
    QAction* quit = file->addAction(tr("&Quit"), this, &QWidget::close);
    quit->setShortcut(QKeySequence::Quit);

    QMenu* edit = menuBar()->addMenu(tr("&Edit"));
    QAction* find = edit->addAction(tr("&Find Op…"), m_opTable, &widgets::OpTableView::focusFilter);
    find->setShortcut(QKeySequence::Find);

    QMenu* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About Quantscope"), this, &MainWindow::showAbout);
    rebuildRecentMenu();
}

void MainWindow::openDialog() {
    QSettings settings;
    const QString dir = settings.value(kLastDirKey, QDir::homePath()).toString();
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Open TensorFlow Lite model"), dir,
        tr("TensorFlow Lite models (*.tflite *.lite);;All files (*)"));
    if (path.isEmpty()) return;
    settings.setValue(kLastDirKey, QFileInfo(path).absolutePath());
    openModel(path);
}

bool MainWindow::openModel(const QString& path, bool interactive) {
    auto doc = ModelDocument::open(path);
    if (!doc) {
        const QString message = QString::fromStdString(doc.error().message);
        statusBar()->showMessage(tr("Error: %1").arg(message));
        if (interactive) QMessageBox::critical(this, tr("Cannot open model"), message);
        return false;
    }
    m_document = std::move(*doc);
    const auto& model = m_document->model();
    setWindowTitle(QStringLiteral("%1 — Quantscope").arg(m_document->fileName()));

    m_subgraphs->blockSignals(true);
    m_subgraphs->clear();
    for (size_t i = 0; i < model.subgraphs.size(); ++i) {
        const auto& name = model.subgraphs[i].name;
        m_subgraphs->addItem(name.empty() ? tr("Subgraph %1").arg(i)
                                          : tr("Subgraph %1: %2").arg(i).arg(QString::fromStdString(name)));
    }
    m_subgraphs->setVisible(model.subgraphs.size() > 1);
    m_subgraphs->blockSignals(false);
    showSubgraph(0);
    m_pages->setCurrentIndex(1);

    addRecentFile(QFileInfo(path).absoluteFilePath());
    QString status = tr("Opened %1").arg(QDir::toNativeSeparators(path));
    if (!model.warnings.empty()) {
        status += tr(" — %n warning(s): ", nullptr, static_cast<int>(model.warnings.size())) +
                  QString::fromStdString(model.warnings.front());
    }
    statusBar()->showMessage(status);
    return true;
}

void MainWindow::showSubgraph(int index) {
    if (!m_document || index < 0) return;
    m_header->setText(QStringLiteral("<b>%1</b> — %2")
                          .arg(m_document->fileName().toHtmlEscaped(),
                               m_document->summary(index).toHtmlEscaped()));
    m_opTable->setRows(m_document->opRows(index));
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
    QSettings().setValue(kGeometryKey, saveGeometry());
    event->accept();
}

void MainWindow::showAbout() {
    QMessageBox::about(this, tr("About Quantscope"),
                       tr("<b>Quantscope %1</b><p>Shows where and why a quantized TensorFlow Lite "
                          "model disagrees with its float original.</p>")
                           .arg(QStringLiteral(QS_VERSION)));
}

}  // namespace qs::app
