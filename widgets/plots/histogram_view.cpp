#include "widgets/plots/histogram_view.h"

#include <qcustomplot.h>
#include <QCheckBox>
#include <QHBoxLayout>
#include <QVBoxLayout>

#include <cmath>

#include "widgets/plots/plot_export.h"
#include "widgets/plots/plot_style.h"

namespace qs::widgets {

namespace {

QString histogramCsv(const PlotHistogram& h, const QString& unit) {
    QString out = QStringLiteral("bin_low,bin_high,count%1\n").arg(unit);
    for (int b = 0; b < h.counts.size(); ++b)
        out += QStringLiteral("%1,%2,%3\n")
                   .arg(h.lo + b * h.width, 0, 'g', 9)
                   .arg(h.lo + (b + 1) * h.width, 0, 'g', 9)
                   .arg(static_cast<qint64>(h.counts[b]));
    return out;
}

void setLog(QCustomPlot* plot, bool log) {
    plot->yAxis->setScaleType(log ? QCPAxis::stLogarithmic : QCPAxis::stLinear);
    plot->yAxis->setTicker(log ? QSharedPointer<QCPAxisTicker>(new QCPAxisTickerLog)
                               : QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
}

}  // namespace

HistogramView::HistogramView(QWidget* parent)
    : QWidget(parent),
      m_values(new QCustomPlot(this)),
      m_error(new QCustomPlot(this)),
      m_log(new QCheckBox(tr("Log counts"), this)) {
    // Log by default: ReLU zeros or one busy level would flatten everything else.
    m_log->setChecked(true);
    for (auto* p : {m_values, m_error}) {
        p->setMinimumSize(260, 150);
        p->yAxis->setLabel(tr("count"));
    }
    m_inside = new QCPBars(m_values->xAxis, m_values->yAxis);
    m_inside->setPen(Qt::NoPen);
    m_inside->setBrush(plotAccent(0));
    m_inside->setName(tr("float values"));
    m_clipped = new QCPBars(m_values->xAxis, m_values->yAxis);
    m_clipped->setPen(Qt::NoPen);
    m_clipped->setBrush(clipColour());
    m_clipped->setName(tr("clipped (clamped to qmin/qmax)"));
    // The grid as a comb of short impulses at each integer level's float value.
    m_grid = new QCPGraph(m_values->xAxis, m_values->yAxis);
    m_grid->setLineStyle(QCPGraph::lsImpulse);
    QColor gridColour = palette().color(QPalette::WindowText);
    gridColour.setAlpha(110);
    m_grid->setPen(QPen(gridColour, 1));
    m_grid->setName(tr("quantization grid"));
    m_reprLo = new QCPItemStraightLine(m_values);
    m_reprHi = new QCPItemStraightLine(m_values);
    for (auto* l : {m_reprLo, m_reprHi}) l->setPen(QPen(clipColour(), 1.5, Qt::DashLine));
    m_clipText = new QCPItemText(m_values);
    m_clipText->setPositionAlignment(Qt::AlignTop | Qt::AlignLeft);
    m_clipText->position->setType(QCPItemPosition::ptAxisRectRatio);
    m_clipText->position->setCoords(0.01, 0.02);
    m_clipText->setColor(palette().color(QPalette::WindowText));
    legendBelow(m_values);

    m_errorBars = new QCPBars(m_error->xAxis, m_error->yAxis);
    m_errorBars->setPen(Qt::NoPen);
    m_errorBars->setBrush(plotAccent(3));
    for (auto* p : {m_values, m_error}) {
        p->plotLayout()->insertRow(0);
        auto* title = new QCPTextElement(p, QString(), QFont(font().family(), -1, QFont::Bold));
        title->setTextColor(palette().color(QPalette::WindowText));
        p->plotLayout()->addElement(0, 0, title);
        stylePlot(p);
    }
    installPlotMenu(
        m_values,
        [this] {
            return m_data ? histogramCsv(m_data->histograms.get().values, QString()) : QString();
        },
        QStringLiteral("value-histogram"));
    installPlotMenu(
        m_error,
        [this] {
            return m_data ? histogramCsv(m_data->histograms.get().error, QString()) : QString();
        },
        QStringLiteral("error-histogram"));
    m_log->setToolTip(tr("Logarithmic count axis (shows rare outliers and clipped tails)"));
    connect(m_log, &QCheckBox::toggled, this, [this] { redraw(); });

    auto* top = new QHBoxLayout;
    top->addStretch();
    top->addWidget(m_log);
    auto* plots = new QHBoxLayout;
    plots->addWidget(m_values, 3);
    plots->addWidget(m_error, 2);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(top);
    layout->addLayout(plots, 1);
}

void HistogramView::setData(std::shared_ptr<const TensorPlotData> data) {
    m_data = std::move(data);
    // Hidden views (another tab) redraw when shown: switching tensors costs only the
    // visible plots.
    if (isVisible())
        redraw();
    else
        m_dirty = true;
}

void HistogramView::showEvent(QShowEvent* event) {
    QWidget::showEvent(event);
    if (m_dirty) redraw();
}

void HistogramView::redraw() {
    m_dirty = false;
    const bool log = m_log->isChecked();
    setLog(m_values, log);
    setLog(m_error, log);
    auto title = [](QCustomPlot* p, const QString& text) {
        if (auto* t = qobject_cast<QCPTextElement*>(p->plotLayout()->element(0, 0)))
            t->setText(text);
    };
    if (!m_data) {
        m_inside->data()->clear();
        m_clipped->data()->clear();
        m_grid->data()->clear();
        m_errorBars->data()->clear();
        m_values->replot();
        m_error->replot();
        return;
    }
    const TensorPlotData& t = *m_data;
    const PlotHistograms& hs = t.histograms.get();
    const PlotHistogram& h = hs.values;
    QVector<double> keys(h.counts.size()), inside(h.counts.size()), clipped(h.counts.size());
    double maxCount = 1;
    for (int b = 0; b < h.counts.size(); ++b) {
        keys[b] = h.center(b);
        const bool clip = t.quantized && (keys[b] < hs.clipLow || keys[b] > hs.clipHigh);
        (clip ? clipped : inside)[b] = h.counts[b];
        maxCount = std::max(maxCount, h.counts[b]);
    }
    m_inside->setWidth(h.width);
    m_clipped->setWidth(h.width);
    m_inside->setData(keys, inside, true);
    m_clipped->setData(keys, clipped, true);
    const double lo = h.lo, hi = h.lo + h.width * static_cast<double>(h.counts.size());
    m_values->xAxis->setRange(lo, hi);
    m_values->yAxis->setRange(log ? 0.8 : 0, maxCount * (log ? 2.0 : 1.12));
    m_values->xAxis->setLabel(tr("float value"));

    // Grid levels inside the view, drawn only when they are far enough apart to read.
    QVector<double> gk, gv;
    if (t.quantized && hs.gridStep > 0) {
        const double levels = (hi - lo) / hs.gridStep;
        if (levels <= 600) {
            const double top = log ? std::pow(maxCount * 2.0, 0.06) : maxCount * 0.06;
            const double first = std::ceil(lo / hs.gridStep) * hs.gridStep;
            for (double x = first; x <= hi; x += hs.gridStep) gk << x, gv << std::max(top, 1.0);
        }
    }
    m_grid->setData(gk, gv, true);
    m_grid->setVisible(!gk.isEmpty());
    m_reprLo->setVisible(t.quantized);
    m_reprHi->setVisible(t.quantized);
    if (t.quantized) {
        m_reprLo->point1->setCoords(t.representableMin, 0);
        m_reprLo->point2->setCoords(t.representableMin, 1);
        m_reprHi->point1->setCoords(t.representableMax, 0);
        m_reprHi->point2->setCoords(t.representableMax, 1);
        const double n = std::max<double>(static_cast<double>(h.total), 1.0);
        m_clipText->setText(tr("representable [%1, %2] (dashed)\nclipped: %3 below (%4 %), %5 "
                               "above (%6 %)")
                                .arg(num(t.representableMin), num(t.representableMax))
                                .arg(hs.clippedLow)
                                .arg(num(100.0 * static_cast<double>(hs.clippedLow) / n))
                                .arg(hs.clippedHigh)
                                .arg(num(100.0 * static_cast<double>(hs.clippedHigh) / n)));
    } else {
        m_clipText->setText(tr("float tensor: no quantization grid"));
    }
    title(m_values, hs.gridAligned
                        ? tr("Float values, one bin per integer level (%1 values)").arg(h.total)
                        : tr("Float values (%1 values)").arg(h.total));

    const PlotHistogram& e = hs.error;
    QVector<double> ek(e.counts.size());
    double emax = 1;
    for (int b = 0; b < e.counts.size(); ++b)
        ek[b] = e.center(b), emax = std::max(emax, e.counts[b]);
    m_errorBars->setWidth(e.width);
    m_errorBars->setData(ek, e.counts, true);
    m_error->xAxis->setRange(e.lo, e.lo + e.width * static_cast<double>(e.counts.size()));
    m_error->yAxis->setRange(log ? 0.8 : 0, emax * (log ? 2.0 : 1.08));
    const QString unit = t.errorUnit.isEmpty() ? tr("float units") : t.errorUnit;
    m_error->xAxis->setLabel(tr("error = dequantized − float (%1)").arg(unit));
    title(m_error, tr("Error histogram, bins of %1 %2").arg(num(e.width), unit));
    m_values->replot();
    m_error->replot();
}

}  // namespace qs::widgets
