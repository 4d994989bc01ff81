// The layer table: a filter box over the sortable LayerTableModel, worst rows first, rows
// copied as CSV with Ctrl+C.
#pragma once

#include <QModelIndexList>
#include <QWidget>

class QLineEdit;
class QSortFilterProxyModel;
class QTableView;

namespace qs::widgets {

class LayerTableModel;
struct LayerRow;
struct MetricColumn;

class LayerTableView : public QWidget {
    Q_OBJECT
public:
    explicit LayerTableView(QWidget* parent = nullptr);

    // Replaces the rows; sorts worst first by `sortMetric` when it is one of the metrics,
    // else by op index.
    void setRows(QVector<MetricColumn> metrics, QVector<LayerRow> rows, const QString& sortMetric);
    LayerTableModel* model() const { return m_model; }
    QSortFilterProxyModel* proxy() const { return m_proxy; }
    QTableView* table() const { return m_table; }
    int visibleRowCount() const;

    // Selects the row of `tensor` (or of `op` when the tensor has none) without emitting
    // rowSelected. Returns whether a row was found.
    bool selectTensor(int tensor, int op = -1);
    // The selected rows (or every visible row when none) as CSV with a header line.
    QString selectionAsCsv() const;

public slots:
    void setFilterText(const QString& text);
    void focusFilter();
    void copySelection();
    void sortWorstFirst(const QString& metric);

signals:
    void rowSelected(int op, int tensor);

private:
    LayerTableModel* m_model;
    QSortFilterProxyModel* m_proxy;
    QTableView* m_table;
    QLineEdit* m_filter;
    bool m_selecting = false;
};

}  // namespace qs::widgets
