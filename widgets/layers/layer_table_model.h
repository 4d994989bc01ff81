// Table model of a run: one row per op output, the op and tensor columns, the run status, and
// one column per metric the app provides.
#pragma once

#include <QAbstractTableModel>
#include <QString>
#include <QVector>
#include <limits>

namespace qs::widgets {

struct MetricColumn {
    QString name;  // "SQNR"
    QString unit;  // "dB"
    bool higherIsBetter = false;
};

struct LayerRow {
    int op = -1;  // -1 for a graph input
    int tensor = -1;
    QString opType;  // "CONV_2D"
    QString tensorName;
    QString dtype;  // "INT8"
    QString shape;  // "[1,16,16,32]"
    QString quant;  // "s=0.02 zp=-128"
    bool evaluated = false;
    QString status;           // "ok", "not run: no kernel for CUSTOM", ...
    QVector<double> metrics;  // in MetricColumn order; NaN = not available
};

class LayerTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Op, Type, Tensor, Dtype, Shape, Quant, Status, FixedColumns };
    // Numeric sort key. Metric columns sort worst first in ascending order whatever the
    // metric's direction; missing values sort last.
    static constexpr int SortRole = Qt::UserRole + 1;
    // The value as a double (metric columns), for tests and CSV.
    static constexpr int ValueRole = Qt::UserRole + 2;

    explicit LayerTableModel(QObject* parent = nullptr);

    void setRows(QVector<MetricColumn> metrics, QVector<LayerRow> rows);
    const QVector<MetricColumn>& metrics() const { return m_metrics; }
    const LayerRow* row(int r) const;
    int rowForTensor(int tensor) const;
    int rowForOp(int op) const;
    int metricColumn(const QString& name) const;  // -1 when absent

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

private:
    QVector<MetricColumn> m_metrics;
    QVector<LayerRow> m_rows;
};

}  // namespace qs::widgets
