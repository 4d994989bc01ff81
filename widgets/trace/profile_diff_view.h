// The profile difference map: two rounding profiles are chosen and compared (the app runs
// the model under both); a table lists every op output with how many elements differ and
// by how much (|delta| buckets), the first differing layer marked; beside it, a heatmap of
// the selected tensor's per-element difference (the tensor views' HeatmapView, so channel
// slider, tiling and hover work the same). Selecting a row asks the app to select that op;
// clicking an element asks for its trace.
#pragma once

#include <QWidget>
#include <memory>

#include "widgets/plots/tensor_plot_data.h"
#include "widgets/trace/trace_view_data.h"

class QComboBox;
class QLabel;
class QProgressBar;
class QPushButton;
class QTableView;

namespace qs::widgets {

class DiffTableModel;
class HeatmapView;

class ProfileDiffView : public QWidget {
    Q_OBJECT
public:
    explicit ProfileDiffView(QWidget* parent = nullptr);

    // The profile names to choose from and the two chosen.
    void setProfiles(const QStringList& names, int a, int b);
    int profileA() const;
    int profileB() const;

    void setBusy(const QString& what, int done, int total);
    void clearBusy();
    void showStatus(const QString& text);
    void setTable(DiffTableData data);
    // Selects the row of `tensor` without emitting layerSelected.
    void selectTensor(int tensor);
    // The selected tensor's difference map, or one line why there is none.
    void setMap(std::shared_ptr<const TensorPlotData> map, const QString& caption);
    void showMapMessage(const QString& message);

    DiffTableModel* model() const { return m_model; }
    QTableView* table() const { return m_table; }
    HeatmapView* heatmap() const { return m_heatmap; }
    QLabel* statusLabel() const { return m_status; }
    QLabel* mapLabel() const { return m_mapLabel; }
    QPushButton* compareButton() const { return m_compare; }

signals:
    void compareRequested(int a, int b);
    void cancelRequested();
    void layerSelected(int op, int tensor);
    void elementClicked(const QVector<int>& coordinates, qint64 index);

private:
    QComboBox* m_a;
    QComboBox* m_b;
    QPushButton* m_compare;
    QProgressBar* m_progress;
    QPushButton* m_cancel;
    QLabel* m_status;
    DiffTableModel* m_model;
    QTableView* m_table;
    QLabel* m_mapLabel;
    HeatmapView* m_heatmap;
    bool m_selecting = false;
};

}  // namespace qs::widgets
