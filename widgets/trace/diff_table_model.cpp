#include "widgets/trace/diff_table_model.h"

#include <QColor>
#include <QFont>

namespace qs::widgets {

DiffTableModel::DiffTableModel(QObject* parent) : QAbstractTableModel(parent) {}

void DiffTableModel::setData(DiffTableData data) {
    beginResetModel();
    m_data = std::move(data);
    endResetModel();
}

const DiffLayerRow* DiffTableModel::row(int r) const {
    if (r < 0 || r >= m_data.rows.size()) return nullptr;
    return &m_data.rows[r];
}

int DiffTableModel::rowForTensor(int tensor) const {
    for (int r = 0; r < m_data.rows.size(); ++r)
        if (m_data.rows[r].tensor == tensor) return r;
    return -1;
}

int DiffTableModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(m_data.rows.size());
}

int DiffTableModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : kColumns;
}

QString DiffTableModel::bucketName(int bucket) {
    static const char* kNames[kDiffBucketCount] = {"1", "2", "3-4", "5-8", "9-16", ">16"};
    return bucket >= 0 && bucket < kDiffBucketCount ? QString::fromLatin1(kNames[bucket])
                                                    : QString();
}

QVariant DiffTableModel::data(const QModelIndex& index, int role) const {
    const DiffLayerRow* r = index.isValid() ? row(index.row()) : nullptr;
    if (!r || index.column() >= kColumns) return {};
    const int col = index.column();
    const bool first = index.row() == m_data.firstDiffering;
    auto numeric = [&]() -> QVariant {
        switch (col) {
            case Index:
                return r->op;
            case Differing:
                return r->differing;
            case Elements:
                return r->elements;
            case MaxAbs:
                return r->maxAbs;
            default:
                if (col >= FirstBucket) return r->buckets[static_cast<size_t>(col - FirstBucket)];
                return {};
        }
    };
    switch (role) {
        case Qt::DisplayRole:
            if (col == Op) return first ? tr("%1  ◀ first difference").arg(r->opName) : r->opName;
            if (col == Tensor) return r->tensorName;
            if (!r->compared && col >= Differing) return QStringLiteral("—");
            if (col == Differing)
                return r->differing == 0
                           ? QStringLiteral("0")
                           : QStringLiteral("%1 (%2 %)")
                                 .arg(r->differing)
                                 .arg(100.0 * static_cast<double>(r->differing) /
                                          static_cast<double>(std::max<qint64>(r->elements, 1)),
                                      0, 'g', 3);
            if (col == MaxAbs) return r->differing ? QString::number(r->maxAbs, 'g', 6) : QString();
            if (col >= FirstBucket) {
                const qint64 n = r->buckets[static_cast<size_t>(col - FirstBucket)];
                return n ? QString::number(n) : QString();
            }
            return numeric();
        case ValueRole:
            return numeric();
        case Qt::TextAlignmentRole:
            return static_cast<int>((col == Op || col == Tensor ? Qt::AlignLeft : Qt::AlignRight) |
                                    Qt::AlignVCenter);
        case Qt::FontRole:
            if (first || (col == Differing && r->differing > 0)) {
                QFont f;
                f.setBold(true);
                return f;
            }
            return {};
        case Qt::BackgroundRole:
            if (first) return QColor(255, 210, 110);
            if (r->compared && r->differing > 0 && col >= Differing) return QColor(255, 236, 200);
            return {};
        case Qt::ForegroundRole:
            if (first || (r->compared && r->differing > 0 && col >= Differing))
                return QColor(Qt::black);
            if (!r->compared || r->differing == 0) return QColor(Qt::gray);
            return {};
        case Qt::ToolTipRole:
            if (col == Tensor) return tr("tensor %1: %2").arg(r->tensor).arg(r->tensorName);
            if (!r->compared) return tr("Not compared: a run did not compute this tensor");
            if (first)
                return tr(
                    "The first op whose output differs: its inputs are equal under both "
                    "profiles, so the difference is this op's own rounding");
            return {};
        default:
            return {};
    }
}

QVariant DiffTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal) return {};
    if (role == Qt::DisplayRole) {
        switch (section) {
            case Index:
                return tr("#");
            case Op:
                return tr("Op");
            case Tensor:
                return tr("Tensor");
            case Differing:
                return tr("Differing");
            case Elements:
                return tr("Elements");
            case MaxAbs:
                return tr("max |Δ|");
            default:
                if (section >= FirstBucket && section < kColumns)
                    return tr("|Δ| %1").arg(bucketName(section - FirstBucket));
                return {};
        }
    }
    if (role == Qt::ToolTipRole) {
        if (section == Differing)
            return tr("Elements whose stored value differs between %1 and %2")
                .arg(m_data.profileA, m_data.profileB);
        if (section == MaxAbs)
            return tr("Largest |%1 − %2| in stored steps (LSB)")
                .arg(m_data.profileB, m_data.profileA);
        if (section >= FirstBucket && section < kColumns)
            return tr("Differing elements with |Δ| = %1 steps")
                .arg(bucketName(section - FirstBucket));
    }
    return {};
}

}  // namespace qs::widgets
