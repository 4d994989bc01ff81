#include "widgets/ops/op_table_view.h"

#include <QHeaderView>
#include <QLineEdit>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QVBoxLayout>

#include "widgets/ops/op_table_model.h"

namespace qs::widgets {

OpTableView::OpTableView(QWidget* parent)
    : QWidget(parent),
      m_model(new OpTableModel(this)),
      m_proxy(new QSortFilterProxyModel(this)),
      m_table(new QTableView(this)),
      m_filter(new QLineEdit(this)) {
    m_proxy->setSourceModel(m_model);
    m_proxy->setSortRole(OpTableModel::SortRole);
    m_proxy->setFilterCaseSensitivity(Qt::CaseInsensitive);
    m_proxy->setFilterKeyColumn(-1);  // match any column: op type, tensor name, dtype, ...

    m_filter->setPlaceholderText(tr("Filter ops by type, tensor name, dtype or shape (Ctrl+F)"));
    m_filter->setClearButtonEnabled(true);
    connect(m_filter, &QLineEdit::textChanged, this, &OpTableView::setFilterText);

    m_table->setModel(m_proxy);
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(OpTableModel::Index, Qt::AscendingOrder);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setAlternatingRowColors(true);
    m_table->setWordWrap(false);
    m_table->setTextElideMode(Qt::ElideMiddle);  // converter names are long; tooltips hold them whole
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 6);
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);

    connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            [this](const QModelIndex& current) {
                const QModelIndex src = m_proxy->mapToSource(current);
                const OpRow* row = m_model->row(src.row());
                emit currentOpChanged(row ? row->index : -1);
            });

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_filter);
    layout->addWidget(m_table);
}

void OpTableView::setRows(QVector<OpRow> rows) {
    m_model->setRows(std::move(rows));
    m_table->resizeColumnsToContents();
    // A converter's long tensor name must not widen the table past the window.
    const int cap = 60 * m_table->fontMetrics().averageCharWidth();
    if (m_table->columnWidth(OpTableModel::OutputName) > cap)
        m_table->setColumnWidth(OpTableModel::OutputName, cap);
}

int OpTableView::visibleRowCount() const { return m_proxy->rowCount(); }

void OpTableView::focusFilter() {
    m_filter->setFocus(Qt::ShortcutFocusReason);
    m_filter->selectAll();
}

void OpTableView::setFilterText(const QString& text) {
    if (m_filter->text() != text) m_filter->setText(text);
    m_proxy->setFilterFixedString(text);
}

}  // namespace qs::widgets
