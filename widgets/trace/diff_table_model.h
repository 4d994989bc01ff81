// Table model of a profile comparison: one row per op output in execution order with the
// count of elements that differ between the two profiles, the largest |delta| and the
// |delta| buckets (1, 2, 3-4, 5-8, 9-16, > 16 steps), so a one-step difference can be
// followed downstream. The first differing layer is marked.
#pragma once

#include <QAbstractTableModel>

#include "widgets/trace/trace_view_data.h"

namespace qs::widgets {

class DiffTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Index, Op, Tensor, Differing, Elements, MaxAbs, FirstBucket };
    static constexpr int kColumns = FirstBucket + kDiffBucketCount;
    // The number behind a numeric cell (counts, max |delta|), for tests and sorting.
    static constexpr int ValueRole = Qt::UserRole + 1;

    explicit DiffTableModel(QObject* parent = nullptr);

    void setData(DiffTableData data);
    const DiffTableData& table() const { return m_data; }
    const DiffLayerRow* row(int r) const;
    int rowForTensor(int tensor) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

    static QString bucketName(int bucket);

private:
    DiffTableData m_data;
};

}  // namespace qs::widgets
