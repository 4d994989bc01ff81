// The op list: a filter box over a sortable table of OpTableModel rows.
#pragma once

#include <QWidget>

class QLineEdit;
class QSortFilterProxyModel;
class QTableView;

namespace qs::widgets {

class OpTableModel;
struct OpRow;

class OpTableView : public QWidget {
    Q_OBJECT
public:
    explicit OpTableView(QWidget* parent = nullptr);

    void setRows(QVector<OpRow> rows);
    OpTableModel* model() const { return m_model; }
    QTableView* table() const { return m_table; }
    // Rows that pass the filter.
    int visibleRowCount() const;

public slots:
    void focusFilter();
    void setFilterText(const QString& text);

signals:
    // The op under the current row changed (-1 when none).
    void currentOpChanged(int opIndex);

private:
    OpTableModel* m_model;
    QSortFilterProxyModel* m_proxy;
    QTableView* m_table;
    QLineEdit* m_filter;
};

}  // namespace qs::widgets
