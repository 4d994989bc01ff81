#include "widgets/trace/profile_diff_view.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>

#include "widgets/plots/heatmap_view.h"
#include "widgets/trace/diff_table_model.h"

namespace qs::widgets {

ProfileDiffView::ProfileDiffView(QWidget* parent)
    : QWidget(parent),
      m_a(new QComboBox(this)),
      m_b(new QComboBox(this)),
      m_compare(new QPushButton(tr("Compare"), this)),
      m_progress(new QProgressBar(this)),
      m_cancel(new QPushButton(tr("Cancel"), this)),
      m_status(new QLabel(this)),
      m_model(new DiffTableModel(this)),
      m_table(new QTableView(this)),
      m_mapLabel(new QLabel(this)),
      m_heatmap(new HeatmapView(false, this)) {
    m_a->setToolTip(tr("Profile A"));
    m_b->setToolTip(tr("Profile B: the map shows B − A"));
    m_compare->setToolTip(
        tr("Run the model under both profiles on the current input and compare every op output"));
    connect(m_compare, &QPushButton::clicked, this,
            [this] { emit compareRequested(profileA(), profileB()); });
    m_progress->setMaximumWidth(220);
    m_progress->hide();
    m_cancel->hide();
    connect(m_cancel, &QPushButton::clicked, this, &ProfileDiffView::cancelRequested);
    m_status->setWordWrap(true);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto* bar = new QHBoxLayout;
    bar->addWidget(new QLabel(tr("Compare"), this));
    bar->addWidget(m_a);
    bar->addWidget(new QLabel(tr("with"), this));
    bar->addWidget(m_b);
    bar->addWidget(m_compare);
    bar->addWidget(m_progress);
    bar->addWidget(m_cancel);
    bar->addWidget(m_status, 1);

    m_table->setModel(m_model);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->verticalHeader()->setVisible(false);
    m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 6);
    m_table->horizontalHeader()->setHighlightSections(false);
    m_table->setWordWrap(false);
    m_table->setTextElideMode(Qt::ElideMiddle);
    // Op, differing count, max |delta| and the first buckets stay readable beside the map.
    m_table->setMinimumWidth(m_table->fontMetrics().horizontalAdvance(QLatin1Char('0')) * 60);
    connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            [this](const QModelIndex& current) {
                if (m_selecting) return;
                if (const DiffLayerRow* r = m_model->row(current.row()))
                    emit layerSelected(r->op, r->tensor);
            });
    m_heatmap->setQuantity(MapQuantity::ErrorLsb);
    connect(m_heatmap, &HeatmapView::elementClicked, this, &ProfileDiffView::elementClicked);
    m_mapLabel->setWordWrap(true);
    auto* mapBox = new QWidget(this);
    auto* mapLayout = new QVBoxLayout(mapBox);
    mapLayout->setContentsMargins(0, 0, 0, 0);
    mapLayout->addWidget(m_mapLabel);
    mapLayout->addWidget(m_heatmap, 1);

    auto* split = new QSplitter(Qt::Horizontal, this);
    split->addWidget(m_table);
    split->addWidget(mapBox);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    split->setSizes({600, 400});
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(bar);
    layout->addWidget(split, 1);
    showStatus(tr("Choose two profiles and press Compare"));
    showMapMessage(tr("Compare two profiles, then select a layer"));
}

void ProfileDiffView::setProfiles(const QStringList& names, int a, int b) {
    for (QComboBox* box : {m_a, m_b}) {
        QSignalBlocker block(box);
        box->clear();
        box->addItems(names);
    }
    m_a->setCurrentIndex(a);
    m_b->setCurrentIndex(b);
}

int ProfileDiffView::profileA() const {
    return m_a->currentIndex();
}

int ProfileDiffView::profileB() const {
    return m_b->currentIndex();
}

void ProfileDiffView::setBusy(const QString& what, int done, int total) {
    m_status->setText(what);
    m_progress->setRange(0, std::max(total, 0));
    m_progress->setValue(done);
    m_progress->show();
    m_cancel->show();
    m_compare->setEnabled(false);
}

void ProfileDiffView::clearBusy() {
    m_progress->hide();
    m_cancel->hide();
    m_compare->setEnabled(true);
}

void ProfileDiffView::showStatus(const QString& text) {
    m_status->setText(text);
}

void ProfileDiffView::setTable(DiffTableData data) {
    m_selecting = true;
    m_model->setData(std::move(data));
    m_selecting = false;
    m_table->resizeColumnsToContents();
    m_table->setColumnWidth(DiffTableModel::Tensor,
                            std::min(m_table->columnWidth(DiffTableModel::Tensor), 160));
}

void ProfileDiffView::selectTensor(int tensor) {
    const int r = m_model->rowForTensor(tensor);
    m_selecting = true;
    if (r < 0) {
        m_table->clearSelection();
    } else {
        m_table->selectRow(r);
        m_table->scrollTo(m_model->index(r, 0));
    }
    m_selecting = false;
}

void ProfileDiffView::setMap(std::shared_ptr<const TensorPlotData> map, const QString& caption) {
    m_mapLabel->setText(caption);
    m_heatmap->setData(std::move(map));
    m_heatmap->setQuantity(MapQuantity::ErrorLsb);
}

void ProfileDiffView::showMapMessage(const QString& message) {
    m_mapLabel->setText(message);
    m_heatmap->clear();
}

}  // namespace qs::widgets
