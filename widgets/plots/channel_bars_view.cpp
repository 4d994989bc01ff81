#include "widgets/plots/channel_bars_view.h"

#include <qcustomplot.h>
#include <QGridLayout>

#include <cmath>

#include "widgets/plots/plot_export.h"
#include "widgets/plots/plot_style.h"

namespace qs::widgets {

namespace {

QCustomPlot* makePlot(QWidget* parent, const QString& title) {
    auto* plot = new QCustomPlot(parent);
    plot->setMinimumSize(240, 140);
    plot->plotLayout()->insertRow(0);
    auto* text = new QCPTextElement(plot, title, QFont(plot->font().family(), -1, QFont::Bold));
    plot->plotLayout()->addElement(0, 0, text);
    plot->xAxis->setLabel(QObject::tr("channel"));
    stylePlot(plot);
    text->setTextColor(plot->palette().color(QPalette::WindowText));
    return plot;
}

void setTitle(QCustomPlot* plot, const QString& title) {
    if (auto* t = qobject_cast<QCPTextElement*>(plot->plotLayout()->element(0, 0)))
        t->setText(title);
}

QVector<double> channelKeys(qsizetype n) {
    QVector<double> keys(n);
    for (qsizetype i = 0; i < n; ++i) keys[i] = static_cast<double>(i);
    return keys;
}

// Finite min/max of several series, padded by 5 %.
QCPRange paddedRange(std::initializer_list<const QVector<double>*> series) {
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (const auto* s : series)
        for (double v : *s)
            if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
    if (!(hi >= lo)) return QCPRange(0, 1);
    const double pad = hi > lo ? 0.05 * (hi - lo) : std::max(std::fabs(hi) * 0.05, 1e-6);
    return QCPRange(lo - pad, hi + pad);
}

QString columnsCsv(const QStringList& names, const QList<const QVector<double>*>& cols) {
    QString out = QStringLiteral("channel,") + names.join(QLatin1Char(',')) + QLatin1Char('\n');
    qsizetype n = 0;
    for (const auto* c : cols) n = std::max(n, c->size());
    for (qsizetype i = 0; i < n; ++i) {
        out += QString::number(i);
        for (const auto* c : cols)
            out += QLatin1Char(',') + (i < c->size() && std::isfinite((*c)[i])
                                           ? QString::number((*c)[i], 'g', 9)
                                           : QString());
        out += QLatin1Char('\n');
    }
    return out;
}

}  // namespace

ChannelBarsView::ChannelBarsView(QWidget* parent)
    : QWidget(parent),
      m_metric(makePlot(this, tr("Error per channel"))),
      m_range(makePlot(this, tr("Float range per channel vs representable range"))),
      m_weightScale(makePlot(this, tr("Weight scale per channel"))),
      m_weightRange(makePlot(this, tr("Weight min/max per channel"))) {
    m_metricBars = new QCPBars(m_metric->xAxis, m_metric->yAxis);
    m_metricBars->setPen(Qt::NoPen);
    m_metricBars->setBrush(plotAccent(0));
    m_metricBars->setWidth(0.8);

    // Candles from min to max (open = min, close = max) draw one vertical range per channel.
    m_floatRange = new QCPFinancial(m_range->xAxis, m_range->yAxis);
    m_floatRange->setChartStyle(QCPFinancial::csCandlestick);
    m_floatRange->setTwoColored(false);
    m_floatRange->setBrush(plotAccent(0));
    m_floatRange->setPen(QPen(plotAccent(0).darker(130)));
    m_floatRange->setWidth(0.7);
    m_floatRange->setName(tr("float min…max"));
    m_reprMin = new QCPGraph(m_range->xAxis, m_range->yAxis);
    m_reprMax = new QCPGraph(m_range->xAxis, m_range->yAxis);
    for (auto* g : {m_reprMin, m_reprMax}) {
        g->setLineStyle(QCPGraph::lsStepCenter);
        g->setPen(QPen(clipColour(), 1.5, Qt::DashLine));
    }
    m_reprMin->setName(tr("representable range"));
    m_reprMax->removeFromLegend();
    legendBelow(m_range);

    m_scaleBars = new QCPBars(m_weightScale->xAxis, m_weightScale->yAxis);
    m_scaleBars->setPen(Qt::NoPen);
    m_scaleBars->setBrush(plotAccent(2));
    m_scaleBars->setWidth(0.8);
    m_scaleBars->setName(tr("scale"));
    m_zeroPoints = new QCPGraph(m_weightScale->xAxis, m_weightScale->yAxis2);
    m_zeroPoints->setLineStyle(QCPGraph::lsNone);
    m_zeroPoints->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, plotAccent(1), 4));
    m_zeroPoints->setName(tr("zero point (right axis)"));
    m_weightScale->yAxis2->setVisible(true);
    m_weightScale->yAxis2->setLabel(tr("zero point"));
    m_weightScale->yAxis->setLabel(tr("scale"));
    legendBelow(m_weightScale);
    stylePlot(m_weightScale);

    m_weightMinMax = new QCPFinancial(m_weightRange->xAxis, m_weightRange->yAxis);
    m_weightMinMax->setChartStyle(QCPFinancial::csCandlestick);
    m_weightMinMax->setTwoColored(false);
    m_weightMinMax->setBrush(plotAccent(3));
    m_weightMinMax->setPen(QPen(plotAccent(3).darker(130)));
    m_weightMinMax->setWidth(0.7);
    m_weightRange->yAxis->setLabel(tr("weight (dequantized)"));

    installPlotMenu(
        m_metric,
        [this] {
            if (!m_data) return QString();
            return columnsCsv({m_data->metricName}, {&m_data->channelMetric});
        },
        QStringLiteral("channel-error"));
    installPlotMenu(
        m_range,
        [this] {
            if (!m_data) return QString();
            return columnsCsv(
                {QStringLiteral("float_min"), QStringLiteral("float_max"),
                 QStringLiteral("representable_min"), QStringLiteral("representable_max")},
                {&m_data->channelFloatMin, &m_data->channelFloatMax, &m_data->channelReprMin,
                 &m_data->channelReprMax});
        },
        QStringLiteral("channel-range"));
    installPlotMenu(
        m_weightScale,
        [this] {
            if (!m_data) return QString();
            return columnsCsv({QStringLiteral("scale"), QStringLiteral("zero_point")},
                              {&m_data->weightScale, &m_data->weightZeroPoint});
        },
        QStringLiteral("weight-scale"));
    installPlotMenu(
        m_weightRange,
        [this] {
            if (!m_data) return QString();
            return columnsCsv({QStringLiteral("weight_min"), QStringLiteral("weight_max")},
                              {&m_data->weightMin, &m_data->weightMax});
        },
        QStringLiteral("weight-range"));

    auto* grid = new QGridLayout(this);
    grid->setContentsMargins(4, 4, 4, 4);
    grid->setSpacing(4);
    grid->addWidget(m_metric, 0, 0);
    grid->addWidget(m_range, 0, 1);
    grid->addWidget(m_weightScale, 1, 0);
    grid->addWidget(m_weightRange, 1, 1);
}

void ChannelBarsView::setData(std::shared_ptr<const TensorPlotData> data) {
    m_data = std::move(data);
    // Hidden views (another tab) redraw when shown: switching tensors costs only the
    // visible plots.
    if (isVisible())
        redraw();
    else
        m_dirty = true;
}

void ChannelBarsView::showEvent(QShowEvent* event) {
    QWidget::showEvent(event);
    if (m_dirty) redraw();
}

void ChannelBarsView::redraw() {
    m_dirty = false;
    const bool has = m_data != nullptr;
    const bool weights = has && !m_data->weightScale.isEmpty();
    m_weightScale->setVisible(weights);
    m_weightRange->setVisible(weights);
    if (!has) {
        m_metricBars->data()->clear();
        m_floatRange->data()->clear();
        m_reprMin->data()->clear();
        m_reprMax->data()->clear();
        for (auto* p : {m_metric, m_range}) p->replot();
        return;
    }
    const TensorPlotData& t = *m_data;

    const auto n = t.channelMetric.size();
    m_metricBars->setData(channelKeys(n), t.channelMetric, true);
    setTitle(m_metric, tr("%1 per channel (%2 channels)").arg(t.metricName).arg(n));
    m_metric->yAxis->setLabel(t.metricName);
    m_metric->xAxis->setRange(-0.8, std::max<double>(n, 1) - 0.2);
    QCPRange mr = paddedRange({&t.channelMetric});
    if (mr.lower > 0) mr.lower = 0;  // bars grow from 0
    m_metric->yAxis->setRange(mr);

    const auto m = t.channelFloatMin.size();
    const QVector<double> keys = channelKeys(m);
    m_floatRange->setData(keys, t.channelFloatMin, t.channelFloatMax, t.channelFloatMin,
                          t.channelFloatMax, true);
    m_reprMin->setData(keys, t.channelReprMin, true);
    m_reprMax->setData(keys, t.channelReprMax, true);
    m_range->xAxis->setRange(-0.8, std::max<double>(m, 1) - 0.2);
    m_range->yAxis->setRange(paddedRange(
        {&t.channelFloatMin, &t.channelFloatMax, &t.channelReprMin, &t.channelReprMax}));
    m_range->yAxis->setLabel(tr("float value"));
    m_reprMin->setVisible(t.quantized);
    m_reprMax->setVisible(t.quantized);

    if (weights) {
        const auto w = t.weightScale.size();
        const QVector<double> wk = channelKeys(w);
        m_scaleBars->setData(wk, t.weightScale, true);
        m_zeroPoints->setData(wk, t.weightZeroPoint, true);
        setTitle(m_weightScale, tr("%1: scale and zero point per channel").arg(t.weightsName));
        m_weightScale->xAxis->setRange(-0.8, std::max<double>(w, 1) - 0.2);
        QCPRange sr = paddedRange({&t.weightScale});
        sr.lower = 0;
        m_weightScale->yAxis->setRange(sr);
        QCPRange zr = paddedRange({&t.weightZeroPoint});
        if (zr.size() < 2) zr = QCPRange(zr.center() - 1, zr.center() + 1);
        m_weightScale->yAxis2->setRange(zr);
        m_weightMinMax->setData(wk, t.weightMin, t.weightMax, t.weightMin, t.weightMax, true);
        setTitle(m_weightRange, tr("%1: min/max per channel").arg(t.weightsName));
        m_weightRange->xAxis->setRange(-0.8, std::max<double>(w, 1) - 0.2);
        m_weightRange->yAxis->setRange(paddedRange({&t.weightMin, &t.weightMax}));
        m_weightScale->replot();
        m_weightRange->replot();
    }
    m_metric->replot();
    m_range->replot();
}

}  // namespace qs::widgets
