#include "widgets/layers/layer_table_model.h"

#include <QBrush>
#include <QPalette>
#include <cmath>

namespace qs::widgets {

LayerTableModel::LayerTableModel(QObject* parent) : QAbstractTableModel(parent) {}

void LayerTableModel::setRows(QVector<MetricColumn> metrics, QVector<LayerRow> rows) {
    beginResetModel();
    m_metrics = std::move(metrics);
    m_rows = std::move(rows);
    endResetModel();
}

const LayerRow* LayerTableModel::row(int r) const {
    return r >= 0 && r < m_rows.size() ? &m_rows[r] : nullptr;
}

int LayerTableModel::rowForTensor(int tensor) const {
    for (int r = 0; r < m_rows.size(); ++r) {
        if (m_rows[r].tensor == tensor) return r;
    }
    return -1;
}

int LayerTableModel::rowForOp(int op) const {
    for (int r = 0; r < m_rows.size(); ++r) {
        if (m_rows[r].op == op) return r;
    }
    return -1;
}

int LayerTableModel::metricColumn(const QString& name) const {
    for (int i = 0; i < m_metrics.size(); ++i) {
        if (m_metrics[i].name == name) return FixedColumns + i;
    }
    return -1;
}

int LayerTableModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

int LayerTableModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : FixedColumns + static_cast<int>(m_metrics.size());
}

QVariant LayerTableModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= m_rows.size() || index.column() >= columnCount())
        return {};
    const LayerRow& r = m_rows[index.row()];
    const int col = index.column();
    if (col >= FixedColumns) {
        const int m = col - FixedColumns;
        const double v = m < r.metrics.size() ? r.metrics[m] : std::nan("");
        switch (role) {
            case Qt::DisplayRole:
                return std::isnan(v) ? QVariant(QString()) : QVariant(QString::number(v, 'g', 4));
            case Qt::ToolTipRole:
                return std::isnan(v) ? QVariant(tr("not available"))
                                     : QVariant(QString::number(v, 'g', 8) + QLatin1Char(' ') +
                                                m_metrics[m].unit);
            case ValueRole:
                return v;
            case SortRole:
                if (std::isnan(v)) return std::numeric_limits<double>::infinity();
                return m_metrics[m].higherIsBetter ? v : -v;
            case Qt::TextAlignmentRole:
                return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
            default:
                return {};
        }
    }
    if (role == Qt::TextAlignmentRole && col == Op) {
        return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
    }
    if (role == Qt::ForegroundRole && !r.evaluated) {
        return QPalette().brush(QPalette::Disabled, QPalette::Text);
    }
    if (role == SortRole && col == Op) return r.op;
    if (role != Qt::DisplayRole && role != Qt::ToolTipRole && role != SortRole) return {};
    switch (col) {
        case Op:
            return r.op >= 0 ? QVariant(r.op) : QVariant(tr("input"));
        case Type:
            return r.opType;
        case Tensor:
            return r.tensorName;
        case Dtype:
            return r.dtype;
        case Shape:
            return r.shape;
        case Quant:
            return r.quant;
        case Status:
            return r.status;
        default:
            return {};
    }
}

QVariant LayerTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || section < 0 || section >= columnCount()) return {};
    if (section >= FixedColumns) {
        const MetricColumn& m = m_metrics[section - FixedColumns];
        if (role == Qt::DisplayRole) {
            return m.unit.isEmpty() ? m.name : QStringLiteral("%1 (%2)").arg(m.name, m.unit);
        }
        if (role == Qt::ToolTipRole) {
            return m.higherIsBetter ? tr("%1: higher is better").arg(m.name)
                                    : tr("%1: lower is better").arg(m.name);
        }
        return {};
    }
    if (role != Qt::DisplayRole) return {};
    switch (section) {
        case Op:
            return tr("#");
        case Type:
            return tr("Op");
        case Tensor:
            return tr("Output tensor");
        case Dtype:
            return tr("Type");
        case Shape:
            return tr("Shape");
        case Quant:
            return tr("Quantization");
        case Status:
            return tr("Run");
        default:
            return {};
    }
}

}  // namespace qs::widgets
