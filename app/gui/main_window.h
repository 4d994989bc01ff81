// Quantscope's main window: the graph coloured by error, the layer table and the inspector,
// with runs on a worker thread (progress and Cancel in the status bar). File menu (open,
// float reference, recent, export), drag and drop, settings kept in QSettings.
#pragma once

#include <QMainWindow>
#include <memory>

#include "app/gui/run_controller.h"
#include "app/gui/tensor_view_data.h"

class QAction;
class QActionGroup;
class QComboBox;
class QDockWidget;
class QLabel;
class QLineEdit;
class QMenu;
class QProgressBar;
class QPushButton;
class QStackedWidget;

namespace qs::widgets {
class GraphPanel;
class InspectorView;
class LayerTableView;
class LessonPanel;
class PlaygroundView;
class TensorViewsPanel;
}  // namespace qs::widgets

namespace qs::app {

class LessonRunner;
class ModelDocument;
class PreprocessLab;
class TraceTools;
class PlaygroundController;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    // Loads `path` and starts a run; on failure shows the one-line error in the status bar
    // and, when `interactive`, in a dialog. Returns whether the model is now open.
    bool openModel(const QString& path, bool interactive = true);
    // Pairs a float model as the reference of the error analysis.
    bool openFloatModel(const QString& path, bool interactive = true);
    // Inputs: one .npy or image file per model input, one folder (a dataset: every .npy or
    // image in it is a sample) or, when empty, seeded random (InputSpec::fromPaths).
    void setInputFiles(const QStringList& files);
    // Any input, e.g. an image with a preprocessing pipeline from the preprocessing lab.
    void setInput(const InputSpec& spec);
    // Tools › Preprocessing Lab: shows the lab window (created on first use) for the open
    // model, with `image` when given, else the current input when it is one image.
    PreprocessLab* openPreprocessingLab(const QString& image = {});
    PreprocessLab* preprocessingLab() const { return m_lab; }
    void setSeed(quint64 seed);
    // persist false: for this window only (command-line flags, lessons), not saved as the
    // next start's default.
    void setProfile(engine::RoundingProfile profile, bool persist = true);
    void setErrorMode(ErrorMode mode, bool persist = true);
    // Selects the op producing the tensor named `name` (or the graph input of that name).
    bool selectTensorByName(const QString& name);
    // Selects the tensor with the worst value of the colour metric in the last run.
    bool selectWorstTensor();
    bool exportGraph(const QString& path, QString* error);
    // The analysis report of the last run, by file name: *.model-explorer.json (SQNR node
    // data), *.json, *.per-channel.csv, else the per-tensor CSV.
    bool exportReport(const QString& path, QString* error);

    const ModelDocument* document() const { return m_document.get(); }
    const RunOutcome* lastOutcome() const { return m_outcome.get(); }
    RunController* runs() const { return m_runs; }
    widgets::GraphPanel* graphPanel() const { return m_graph; }
    widgets::LayerTableView* layerTable() const { return m_layers; }
    widgets::InspectorView* inspector() const { return m_inspector; }
    widgets::TensorViewsPanel* tensorViews() const { return m_views; }
    QDockWidget* tensorViewsDock() const { return m_viewsDock; }
    TraceTools* traceTools() const { return m_traceTools; }
    // Milliseconds the last tensor views update took (data + redraw of every view).
    double lastTensorViewsMs() const { return m_viewsMs; }
    // Quantization playground (View › Quantization Playground) and lessons (Help › Lessons).
    PlaygroundController* playground() const { return m_playground; }
    widgets::PlaygroundView* playgroundView() const { return m_playView; }
    QDockWidget* playgroundDock() const { return m_playDock; }
    LessonRunner* lessons() const { return m_lessons; }
    QDockWidget* lessonDock() const { return m_lessonDock; }
    // Workshop mode: large fonts and high contrast everywhere (View › Workshop Mode), kept in
    // QSettings when `persist`.
    void setWorkshopMode(bool on, bool persist = true);
    bool workshopMode() const { return m_workshop; }
    engine::RoundingProfile profile() const { return m_profile; }
    ErrorMode errorMode() const { return m_mode; }
    QString colourMetric() const { return m_metric; }
    int currentSubgraph() const { return m_subgraph; }
    QStringList recentFiles() const;

    static constexpr int kMaxRecentFiles = 10;

public slots:
    void rerun();
    void cancelRun();
    void fitGraph();
    void findNext();

signals:
    void modelLoaded();
    void graphLaidOut();
    void runFinished();
    // The graph was painted with a finished run's colours.
    void graphPainted();
    // The tensor views show a tensor (or why they cannot); `ms`: data + redraw time.
    void tensorViewsShown(int tensor, double ms);
    // An op / tensor was selected (graph, table, or restored after a run) and is shown.
    void selectionShown(int op, int tensor);

protected:
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;
    void closeEvent(QCloseEvent* event) override;

private slots:
    void openDialog();
    void openFloatDialog();
    void chooseInputFiles();
    void chooseSeed();
    void exportGraphDialog();
    void exportReportDialog();
    void showSubgraph(int index);
    void showAbout();
    void runStarted(int generation);
    void runProgress(int done, int total, const QString& phase);
    void runDone(std::shared_ptr<const qs::app::RunOutcome> outcome);
    void nodeSelected(int node, int op, int tensor);
    void rowSelected(int op, int tensor);
    void metricChosen(const QString& name);

private:
    void createActions();
    void createToolBar();
    void rebuildRecentMenu();
    void addRecentFile(const QString& path);
    QWidget* createWelcomePage();
    void refreshViews(bool relayout);
    void showInspector(int op, int tensor);
    void showTensorViews(int op, int tensor);
    void showError(const QString& title, const QString& message);
    void updateInputLabel();

    std::shared_ptr<const ModelDocument> m_document;
    std::shared_ptr<const model::Model> m_floatModel;
    QString m_floatPath;
    std::shared_ptr<const RunOutcome> m_outcome;
    int m_subgraph = 0;
    engine::RoundingProfile m_profile;
    ErrorMode m_mode;
    QString m_metric;
    InputSpec m_input;
    bool m_interactive = true;
    bool m_syncing = false;
    bool m_awaitColouredPaint = false;
    int m_selectedOp = -1, m_selectedTensor = -1;

    RunController* m_runs;
    QStackedWidget* m_pages;
    QLabel* m_header;
    QComboBox* m_subgraphs;
    widgets::GraphPanel* m_graph;
    widgets::LayerTableView* m_layers;
    widgets::InspectorView* m_inspector;
    widgets::TensorViewsPanel* m_views;
    QDockWidget* m_viewsDock;
    // What the tensor views show, so an unchanged selection is not redrawn.
    const RunOutcome* m_viewsOutcome = nullptr;
    int m_viewsTensor = -1;
    QString m_viewsMetric;
    double m_viewsMs = 0.0;
    PlanesPool m_planesPool;
    QComboBox* m_profileBox = nullptr;
    QComboBox* m_modeBox = nullptr;
    QLabel* m_inputLabel = nullptr;
    QLineEdit* m_search = nullptr;
    QProgressBar* m_progress;
    QPushButton* m_cancel;
    QMenu* m_recentMenu = nullptr;
    QAction* m_randomInput = nullptr;
    PreprocessLab* m_lab = nullptr;
    TraceTools* m_traceTools = nullptr;
    widgets::PlaygroundView* m_playView = nullptr;
    PlaygroundController* m_playground = nullptr;
    QDockWidget* m_playDock = nullptr;
    widgets::LessonPanel* m_lessonPanel = nullptr;
    QDockWidget* m_lessonDock = nullptr;
    LessonRunner* m_lessons = nullptr;
    QAction* m_workshopAction = nullptr;
    bool m_workshop = false;
};

// The bundled sample model, or an empty string when it cannot be found.
QString bundledSamplePath();

}  // namespace qs::app
