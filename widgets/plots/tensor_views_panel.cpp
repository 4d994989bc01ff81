#include "widgets/plots/tensor_views_panel.h"

#include <QElapsedTimer>
#include <QHBoxLayout>
#include <QLabel>
#include <QTabWidget>
#include <QVBoxLayout>

#include "widgets/plots/channel_bars_view.h"
#include "widgets/plots/heatmap_view.h"
#include "widgets/plots/histogram_view.h"
#include "widgets/plots/scatter_view.h"

namespace qs::widgets {

TensorViewsPanel::TensorViewsPanel(QWidget* parent)
    : QWidget(parent),
      m_header(new QLabel(this)),
      m_tabs(new QTabWidget(this)),
      m_heatmap(new HeatmapView(false, this)),
      m_bars(new ChannelBarsView(this)),
      m_histograms(new HistogramView(this)),
      m_scatter(new ScatterView(this)),
      m_saturation(new HeatmapView(true, this)) {
    m_header->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_header->setWordWrap(false);
    auto* scatterPage = new QWidget(this);
    auto* row = new QHBoxLayout(scatterPage);
    row->setContentsMargins(0, 0, 0, 0);
    row->addWidget(m_scatter, 2);
    row->addWidget(m_saturation, 3);
    m_tabs->addTab(m_heatmap, tr("Heatmap"));
    m_tabs->addTab(m_bars, tr("Channels"));
    m_tabs->addTab(m_histograms, tr("Histograms"));
    m_tabs->addTab(scatterPage, tr("Scatter && saturation"));
    m_tabs->setDocumentMode(true);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 2, 4, 2);
    layout->setSpacing(2);
    layout->addWidget(m_header);
    layout->addWidget(m_tabs, 1);
    showMessage(tr("Select a tensor in the graph or the layer table"));
}

double TensorViewsPanel::setData(std::shared_ptr<const TensorPlotData> data) {
    QElapsedTimer timer;
    timer.start();
    m_data = std::move(data);
    if (m_data) {
        // Converter names can be hundreds of characters: elide the middle, full name in the
        // tooltip.
        QString name = m_data->tensorName;
        if (name.size() > 90) name = name.left(40) + QStringLiteral(" … ") + name.right(45);
        m_header->setText(QStringLiteral("%1 — <b>%2</b>")
                              .arg(m_data->description.toHtmlEscaped(), name.toHtmlEscaped()));
        m_header->setToolTip(m_data->tensorName);
    }
    m_heatmap->setData(m_data);
    m_bars->setData(m_data);
    m_histograms->setData(m_data);
    m_scatter->setData(m_data);
    m_saturation->setData(m_data);
    return static_cast<double>(timer.nsecsElapsed()) / 1e6;
}

void TensorViewsPanel::redrawAll() {
    m_heatmap->redraw();
    m_bars->redraw();
    m_histograms->redraw();
    m_scatter->redraw();
    m_saturation->redraw();
}

void TensorViewsPanel::showMessage(const QString& why) {
    setData(nullptr);
    m_header->setText(why.toHtmlEscaped());
}

}  // namespace qs::widgets
