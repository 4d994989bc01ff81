#include "widgets/ops/op_table_model.h"

#include <QFont>

namespace qs::widgets {

OpTableModel::OpTableModel(QObject* parent) : QAbstractTableModel(parent) {}

void OpTableModel::setRows(QVector<OpRow> rows) {
    beginResetModel();
    m_rows = std::move(rows);
    endResetModel();
}

const OpRow* OpTableModel::row(int r) const {
    return r >= 0 && r < m_rows.size() ? &m_rows[r] : nullptr;
}

int OpTableModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

int OpTableModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant OpTableModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= m_rows.size()) return {};
    const OpRow& r = m_rows[index.row()];
    if (role == SortRole && index.column() == Index) return r.index;
    if (role == Qt::TextAlignmentRole && index.column() == Index) {
        return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
    }
    if (role == Qt::FontRole && index.column() == Type) {
        QFont f;
        f.setBold(true);
        return f;
    }
    if (role != Qt::DisplayRole && role != Qt::ToolTipRole && role != SortRole) return {};
    switch (index.column()) {
        case Index: return r.index;
        case Type: return r.type;
        case Options: return r.options;
        case Inputs: return r.inputs;
        case Outputs: return r.outputs;
        case OutputName: return r.outputName;
        case Dtype: return r.outputDtype;
        case Shape: return r.outputShape;
        case OutputQuant: return r.outputQuant;
        case WeightsQuant: return r.weightsQuant;
        default: return {};
    }
}

QVariant OpTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
    switch (section) {
        case Index: return tr("#");
        case Type: return tr("Op");
        case Options: return tr("Options");
        case Inputs: return tr("Inputs");
        case Outputs: return tr("Outputs");
        case OutputName: return tr("Output tensor");
        case Dtype: return tr("Type");
        case Shape: return tr("Shape");
        case OutputQuant: return tr("Output quantization");
        case WeightsQuant: return tr("Weights quantization");
        default: return {};
    }
}

}  // namespace qs::widgets
