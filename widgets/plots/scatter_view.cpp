#include "widgets/plots/scatter_view.h"

#include <qcustomplot.h>
#include <QVBoxLayout>

#include <cmath>

#include "widgets/plots/plot_export.h"
#include "widgets/plots/plot_style.h"

namespace qs::widgets {

ScatterView::ScatterView(QWidget* parent) : QWidget(parent), m_plot(new QCustomPlot(this)) {
    m_plot->setMinimumSize(240, 200);
    m_density = new QCPColorMap(m_plot->xAxis, m_plot->yAxis);
    m_density->setInterpolate(false);
    m_density->setTightBoundary(false);
    auto* scale = new QCPColorScale(m_plot);
    m_plot->plotLayout()->addElement(0, 1, scale);
    scale->setBarWidth(12);
    scale->setDataScaleType(QCPAxis::stLogarithmic);
    scale->axis()->setTicker(QSharedPointer<QCPAxisTickerLog>::create());
    scale->axis()->setLabel(tr("elements per cell"));
    m_density->setColorScale(scale);
    QCPColorGradient g(QCPColorGradient::gpThermal);
    g.setNanHandling(QCPColorGradient::nhTransparent);
    m_density->setGradient(g);
    auto* margins = new QCPMarginGroup(m_plot);
    m_plot->axisRect()->setMarginGroup(QCP::msBottom | QCP::msTop, margins);
    scale->setMarginGroup(QCP::msBottom | QCP::msTop, margins);

    m_identity = new QCPItemLine(m_plot);
    QColor id = palette().color(QPalette::WindowText);
    id.setAlpha(150);
    m_identity->setPen(QPen(id, 1, Qt::DashLine));
    m_reprLo = new QCPItemStraightLine(m_plot);
    m_reprHi = new QCPItemStraightLine(m_plot);
    for (auto* l : {m_reprLo, m_reprHi}) l->setPen(QPen(clipColour(), 1, Qt::DotLine));
    m_plot->xAxis->setLabel(tr("float value"));
    m_plot->yAxis->setLabel(tr("dequantized int value"));
    m_plot->plotLayout()->insertRow(0);
    auto* title = new QCPTextElement(
        m_plot, tr("Float vs dequantized (dashed: identity, dotted: representable range)"),
        QFont(font().family(), -1, QFont::Bold));
    title->setTextColor(palette().color(QPalette::WindowText));
    m_plot->plotLayout()->addElement(0, 0, title);
    stylePlot(m_plot);
    installPlotMenu(
        m_plot,
        [this] {
            if (!m_data) return QString();
            const PlotDensity& t = m_data->density.get();
            QString out =
                QStringLiteral("float_low,float_high,dequantized_low,dequantized_high,count\n");
            const double w = (t.hi - t.lo) / std::max(t.n, 1);
            for (int y = 0; y < t.n; ++y)
                for (int x = 0; x < t.n; ++x) {
                    const int c = t.counts[static_cast<size_t>(y * t.n + x)];
                    if (c == 0) continue;
                    out += QStringLiteral("%1,%2,%3,%4,%5\n")
                               .arg(t.lo + x * w, 0, 'g', 9)
                               .arg(t.lo + (x + 1) * w, 0, 'g', 9)
                               .arg(t.lo + y * w, 0, 'g', 9)
                               .arg(t.lo + (y + 1) * w, 0, 'g', 9)
                               .arg(c);
                }
            return out;
        },
        QStringLiteral("scatter"));
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(m_plot);
}

void ScatterView::setData(std::shared_ptr<const TensorPlotData> data) {
    m_data = std::move(data);
    // Hidden views (another tab) redraw when shown: switching tensors costs only the
    // visible plots.
    if (isVisible())
        redraw();
    else
        m_dirty = true;
}

void ScatterView::showEvent(QShowEvent* event) {
    QWidget::showEvent(event);
    if (m_dirty) redraw();
}

void ScatterView::redraw() {
    m_dirty = false;
    auto* d = m_density->data();
    if (!m_data || m_data->density.get().n == 0) {
        d->setSize(1, 1);
        d->setCell(0, 0, std::nan(""));
        m_plot->replot();
        return;
    }
    const TensorPlotData& t = *m_data;
    const PlotDensity& density = t.density.get();
    const int n = density.n;
    const double lo = density.lo, hi = density.hi;
    const double w = (hi - lo) / n;
    d->setSize(n, n);
    // Cell centres, so the map spans exactly [lo, hi] on both axes.
    d->setRange(QCPRange(lo + w / 2, hi - w / 2), QCPRange(lo + w / 2, hi - w / 2));
    for (int y = 0; y < n; ++y)
        for (int x = 0; x < n; ++x) {
            const int c = density.counts[static_cast<size_t>(y * n + x)];
            d->setCell(x, y, c > 0 ? static_cast<double>(c) : std::nan(""));
        }
    m_density->setDataRange(QCPRange(1, std::max(density.max, 2)));
    m_identity->start->setCoords(lo, lo);
    m_identity->end->setCoords(hi, hi);
    m_reprLo->setVisible(t.quantized);
    m_reprHi->setVisible(t.quantized);
    if (t.quantized) {
        m_reprLo->point1->setCoords(0, t.representableMin);
        m_reprLo->point2->setCoords(1, t.representableMin);
        m_reprHi->point1->setCoords(0, t.representableMax);
        m_reprHi->point2->setCoords(1, t.representableMax);
    }
    m_plot->yAxis->setLabel(t.quantized ? tr("dequantized int value") : tr("engine value"));
    m_plot->xAxis->setRange(lo, hi);
    m_plot->yAxis->setRange(lo, hi);
    m_plot->replot();
}

}  // namespace qs::widgets
