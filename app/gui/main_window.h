// Quantscope's main window: File menu (open, recent, quit), drag and drop, the op list.
#pragma once

#include <QMainWindow>
#include <memory>

class QComboBox;
class QLabel;
class QMenu;
class QStackedWidget;

namespace qs::widgets {
class OpTableView;
}

namespace qs::app {

class ModelDocument;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    // Loads `path`; on failure shows the one-line error in the status bar and, when
    // `interactive`, in a dialog. Returns whether the model is now open.
    bool openModel(const QString& path, bool interactive = true);
    const ModelDocument* document() const { return m_document.get(); }
    widgets::OpTableView* opTable() const { return m_opTable; }
    QStringList recentFiles() const;

    static constexpr int kMaxRecentFiles = 10;

protected:
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;
    void closeEvent(QCloseEvent* event) override;

private slots:
    void openDialog();
    void showSubgraph(int index);
    void showAbout();

private:
    void createActions();
    void rebuildRecentMenu();
    void addRecentFile(const QString& path);
    QWidget* createWelcomePage();

    std::shared_ptr<const ModelDocument> m_document;
    QStackedWidget* m_pages;
    QLabel* m_header;
    QComboBox* m_subgraphs;
    widgets::OpTableView* m_opTable;
    QMenu* m_recentMenu = nullptr;
};

// The bundled sample model, or an empty string when it cannot be found.
QString bundledSamplePath();

}  // namespace qs::app
