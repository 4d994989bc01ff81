#include "widgets/layers/layer_table_view.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QHeaderView>
#include <QLineEdit>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QVBoxLayout>
#include <cmath>

#include "widgets/layers/layer_table_model.h"

namespace qs::widgets {

namespace {

// RFC 4180 quoting: fields with a comma, quote or line break are quoted, quotes doubled.
QString csvField(const QString& s) {
    if (!s.contains(QLatin1Char(',')) && !s.contains(QLatin1Char('"')) &&
        !s.contains(QLatin1Char('\n'))) {
        return s;
    }
    QString q = s;
    q.replace(QLatin1Char('"'), QStringLiteral("\"\""));
    return QLatin1Char('"') + q + QLatin1Char('"');
}

}  // namespace

LayerTableView::LayerTableView(QWidget* parent)
    : QWidget(parent),
      m_model(new LayerTableModel(this)),
      m_proxy(new QSortFilterProxyModel(this)),
      m_table(new QTableView(this)),
      m_filter(new QLineEdit(this)) {
    m_proxy->setSourceModel(m_model);
    m_proxy->setSortRole(LayerTableModel::SortRole);
    m_proxy->setFilterCaseSensitivity(Qt::CaseInsensitive);
    m_proxy->setFilterKeyColumn(-1);

    m_filter->setPlaceholderText(tr("Filter layers by op, tensor name, type or shape"));
    m_filter->setClearButtonEnabled(true);
    connect(m_filter, &QLineEdit::textChanged, this, &LayerTableView::setFilterText);

    m_table->setModel(m_proxy);
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(LayerTableModel::Op, Qt::AscendingOrder);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_table->setAlternatingRowColors(true);
    m_table->setWordWrap(false);
    m_table->setTextElideMode(Qt::ElideMiddle);
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 6);
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);

    auto* copy = new QAction(tr("Copy as CSV"), m_table);
    copy->setShortcut(QKeySequence::Copy);
    copy->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    connect(copy, &QAction::triggered, this, &LayerTableView::copySelection);
    m_table->addAction(copy);
    m_table->setContextMenuPolicy(Qt::ActionsContextMenu);

    connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            [this](const QModelIndex& current) {
                if (m_selecting) return;
                const LayerRow* row = m_model->row(m_proxy->mapToSource(current).row());
                if (row) emit rowSelected(row->op, row->tensor);
            });

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_filter);
    layout->addWidget(m_table);
}

void LayerTableView::setRows(QVector<MetricColumn> metrics, QVector<LayerRow> rows,
                             const QString& sortMetric) {
    const bool firstFill = m_model->rowCount() == 0;
    const bool sameColumns =
        m_model->columnCount() == LayerTableModel::FixedColumns + static_cast<int>(metrics.size());
    m_model->setRows(std::move(metrics), std::move(rows));
    if (firstFill || !sameColumns) {
        m_table->resizeColumnsToContents();
        const int cap = 40 * m_table->fontMetrics().averageCharWidth();
        for (int c : {int(LayerTableModel::Tensor), int(LayerTableModel::Quant),
                      int(LayerTableModel::Status)}) {
            if (m_table->columnWidth(c) > cap) m_table->setColumnWidth(c, cap);
        }
    }
    sortWorstFirst(sortMetric);
}

void LayerTableView::sortWorstFirst(const QString& metric) {
    const int col = m_model->metricColumn(metric);
    if (col >= 0) {
        m_table->sortByColumn(col, Qt::AscendingOrder);  // the sort key puts the worst first
    } else {
        m_table->sortByColumn(LayerTableModel::Op, Qt::AscendingOrder);
    }
}

int LayerTableView::visibleRowCount() const {
    return m_proxy->rowCount();
}

bool LayerTableView::selectTensor(int tensor, int op) {
    int r = tensor >= 0 ? m_model->rowForTensor(tensor) : -1;
    if (r < 0 && op >= 0) r = m_model->rowForOp(op);
    const QModelIndex proxyIndex =
        r >= 0 ? m_proxy->mapFromSource(m_model->index(r, 0)) : QModelIndex();
    m_selecting = true;
    if (proxyIndex.isValid()) {
        m_table->selectionModel()->setCurrentIndex(
            proxyIndex, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
        m_table->scrollTo(proxyIndex);
    } else {
        m_table->selectionModel()->clearSelection();
    }
    m_selecting = false;
    return proxyIndex.isValid();
}

QString LayerTableView::selectionAsCsv() const {
    QList<int> rows;
    for (const QModelIndex& i : m_table->selectionModel()->selectedRows()) rows << i.row();
    if (rows.isEmpty()) {
        for (int r = 0; r < m_proxy->rowCount(); ++r) rows << r;
    }
    std::sort(rows.begin(), rows.end());
    QStringList lines;
    QStringList header;
    const int columns = m_proxy->columnCount();
    header << QStringLiteral("op_index");
    for (int c = 1; c < columns; ++c)
        header << csvField(m_proxy->headerData(c, Qt::Horizontal).toString());
    lines << header.join(QLatin1Char(','));
    for (int r : rows) {
        QStringList fields;
        for (int c = 0; c < columns; ++c) {
            const QModelIndex idx = m_proxy->index(r, c);
            if (c >= LayerTableModel::FixedColumns) {
                const double v = idx.data(LayerTableModel::ValueRole).toDouble();
                fields << (std::isnan(v) ? QString() : QString::number(v, 'g', 9));
            } else {
                fields << csvField(idx.data().toString());
            }
        }
        lines << fields.join(QLatin1Char(','));
    }
    return lines.join(QLatin1Char('\n')) + QLatin1Char('\n');
}

void LayerTableView::copySelection() {
    QApplication::clipboard()->setText(selectionAsCsv());
}

void LayerTableView::setFilterText(const QString& text) {
    if (m_filter->text() != text) m_filter->setText(text);
    m_proxy->setFilterFixedString(text);
}

void LayerTableView::focusFilter() {
    m_filter->setFocus(Qt::ShortcutFocusReason);
    m_filter->selectAll();
}

}  // namespace qs::widgets
