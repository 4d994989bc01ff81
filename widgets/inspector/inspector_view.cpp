#include "widgets/inspector/inspector_view.h"

#include <qcustomplot.h>
#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QScrollArea>
#include <QTableWidget>
#include <QVBoxLayout>
#include <algorithm>

namespace qs::widgets {

namespace {

QString num(double v) {
    return QString::number(v, 'g', 6);
}

QString quantText(const InspectorTensor& t) {
    if (t.scales.isEmpty()) return QStringLiteral("—");
    if (t.scales.size() == 1) {
        return QStringLiteral("s=%1 zp=%2").arg(num(t.scales[0])).arg(t.zeroPoints.value(0, 0));
    }
    const auto [lo, hi] = std::minmax_element(t.scales.begin(), t.scales.end());
    QString zp = QStringLiteral("0");
    if (!t.zeroPoints.isEmpty()) {
        const auto [zlo, zhi] = std::minmax_element(t.zeroPoints.begin(), t.zeroPoints.end());
        zp = *zlo == *zhi ? QString::number(*zlo) : QStringLiteral("%1..%2").arg(*zlo).arg(*zhi);
    }
    return QStringLiteral("%1 ch (axis %2) s=%3..%4 zp=%5")
        .arg(t.scales.size())
        .arg(t.quantizedDimension)
        .arg(num(*lo), num(*hi), zp);
}

enum Series { WeightAbsMax, WeightRange, EffectiveScale, Shift };

}  // namespace

InspectorView::InspectorView(QWidget* parent)
    : QWidget(parent),
      m_summary(new QLabel(this)),
      m_series(new QComboBox(this)),
      m_plot(new QCustomPlot(this)),
      m_channels(new QTableWidget(this)),
      m_channelBox(new QWidget(this)) {
    m_summary->setTextFormat(Qt::RichText);
    m_summary->setWordWrap(true);
    m_summary->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto* scroll = new QScrollArea(this);
    scroll->setWidget(m_summary);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);

    m_series->addItem(tr("Weight |max| per channel"), WeightAbsMax);
    m_series->addItem(tr("Weight min/max per channel"), WeightRange);
    m_series->addItem(tr("Effective scale s_in·s_w/s_out"), EffectiveScale);
    m_series->addItem(tr("Requantization shift"), Shift);
    connect(m_series, &QComboBox::currentIndexChanged, this, &InspectorView::replot);
    m_plot->setMinimumHeight(140);
    m_plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    m_plot->axisRect()->setRangeDrag(Qt::Horizontal);
    m_plot->axisRect()->setRangeZoom(Qt::Horizontal);

    const QStringList headers = {tr("ch"),    tr("eff. scale"), tr("multiplier"), tr("shift"),
                                 tr("w min"), tr("w max"),      tr("w |max|")};
    m_channels->setColumnCount(static_cast<int>(headers.size()));
    m_channels->setHorizontalHeaderLabels(headers);
    m_channels->verticalHeader()->hide();
    m_channels->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_channels->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 4);
    m_channels->horizontalHeader()->setStretchLastSection(true);

    auto* boxLayout = new QVBoxLayout(m_channelBox);
    boxLayout->setContentsMargins(0, 0, 0, 0);
    boxLayout->addWidget(m_series);
    boxLayout->addWidget(m_plot, 1);
    boxLayout->addWidget(m_channels, 1);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(scroll, 1);
    layout->addWidget(m_channelBox, 2);
    clear();
}

void InspectorView::clear() {
    m_data = {};
    m_summary->setText(tr("<i>Select a node in the graph or a row in the table.</i>"));
    m_channelBox->hide();
}

void InspectorView::setData(const InspectorData& data) {
    if (data.empty()) {
        clear();
        return;
    }
    m_data = data;
    QString html = QStringLiteral("<h3 style='margin:0'>%1</h3>").arg(data.title.toHtmlEscaped());
    if (!data.options.isEmpty())
        html += QStringLiteral("<p>%1</p>").arg(data.options.toHtmlEscaped());
    if (!data.details.isEmpty()) {
        html += QStringLiteral("<table cellspacing='0' cellpadding='1'>");
        for (const auto& [k, v] : data.details) {
            html += QStringLiteral("<tr><td><b>%1</b>&nbsp;</td><td>%2</td></tr>")
                        .arg(k.toHtmlEscaped(), v.toHtmlEscaped());
        }
        html += QStringLiteral("</table>");
    }
    // One block per tensor: converter names are long, so they get a line of their own.
    html += QStringLiteral("<p style='margin-bottom:2px'><b>Tensors</b></p>");
    for (const InspectorTensor& t : data.tensors) {
        html += QStringLiteral(
                    "<p style='margin:0 0 4px 0'><b>%1</b> #%2 %3 %4%5<br>%6<br>"
                    "<span style='font-size:small'>%7</span></p>")
                    .arg(t.role.toHtmlEscaped())
                    .arg(t.index)
                    .arg(t.dtype.toHtmlEscaped(), t.shape.toHtmlEscaped(),
                         t.constant ? QStringLiteral(" const") : QString(),
                         quantText(t).toHtmlEscaped(), t.name.toHtmlEscaped());
    }
    const InspectorChannels& ch = data.channels;
    if (ch.effectiveScale.size() == 1) {
        html += QStringLiteral(
                    "<p><b>Requantization</b> effective scale %1 → multiplier %2, shift %3</p>")
                    .arg(num(ch.effectiveScale[0]))
                    .arg(ch.multiplier.value(0))
                    .arg(ch.shift.value(0));
    }
    m_summary->setText(html);

    const int n = ch.size();
    m_channelBox->setVisible(n > 0);
    if (n == 0) return;
    m_channels->setRowCount(n);
    const auto set = [this](int r, int c, const QString& text) {
        auto* item = new QTableWidgetItem(text);
        item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
        m_channels->setItem(r, c, item);
    };
    for (int r = 0; r < n; ++r) {
        set(r, 0, QString::number(r));
        set(r, 1, r < ch.effectiveScale.size() ? num(ch.effectiveScale[r]) : QString());
        set(r, 2, r < ch.multiplier.size() ? QString::number(ch.multiplier[r]) : QString());
        set(r, 3, r < ch.shift.size() ? QString::number(ch.shift[r]) : QString());
        set(r, 4, r < ch.weightMin.size() ? num(ch.weightMin[r]) : QString());
        set(r, 5, r < ch.weightMax.size() ? num(ch.weightMax[r]) : QString());
        set(r, 6, r < ch.weightAbsMax.size() ? num(ch.weightAbsMax[r]) : QString());
    }
    m_channels->resizeColumnsToContents();
    // Default series: weights when there are any, else the requantization scale.
    m_series->blockSignals(true);
    m_series->setCurrentIndex(ch.weightAbsMax.isEmpty() ? EffectiveScale : WeightAbsMax);
    m_series->blockSignals(false);
    replot();
}

void InspectorView::replot() {
    m_plot->clearPlottables();
    const InspectorChannels& ch = m_data.channels;
    const int series = m_series->currentData().toInt();
    QVector<double> keys;
    const auto addBars = [&](const QVector<double>& values, const QColor& colour) {
        auto* bars = new QCPBars(m_plot->xAxis, m_plot->yAxis);
        keys.resize(values.size());
        for (int i = 0; i < values.size(); ++i) keys[i] = i;
        bars->setData(keys, values, true);
        bars->setWidth(0.8);
        bars->setPen(Qt::NoPen);
        bars->setBrush(colour);
        return bars;
    };
    const QColor accent = palette().color(QPalette::Highlight);
    switch (series) {
        case WeightAbsMax:
            addBars(ch.weightAbsMax, accent);
            break;
        case WeightRange:
            addBars(ch.weightMax, accent);
            addBars(ch.weightMin, accent.darker(140));
            break;
        case EffectiveScale:
            addBars(ch.effectiveScale, accent);
            break;
        case Shift: {
            QVector<double> s;
            for (int v : ch.shift) s << v;
            addBars(s, accent);
            break;
        }
        default:
            break;
    }
    // Theme: plot colours follow the palette (light or dark).
    const QColor fg = palette().color(QPalette::Text);
    m_plot->setBackground(palette().brush(QPalette::Base));
    for (QCPAxis* axis : {m_plot->xAxis, m_plot->yAxis}) {
        axis->setBasePen(QPen(fg));
        axis->setTickPen(QPen(fg));
        axis->setSubTickPen(QPen(fg));
        axis->setTickLabelColor(fg);
        axis->setLabelColor(fg);
    }
    m_plot->xAxis->setLabel(m_data.channels.axisNote.isEmpty() ? tr("channel")
                                                               : m_data.channels.axisNote);
    m_plot->rescaleAxes();
    m_plot->xAxis->setRange(-1, std::max(1, ch.size()));
    const QCPRange y = m_plot->yAxis->range();
    m_plot->yAxis->setRange(std::min(0.0, y.lower),
                            y.upper + 0.05 * std::abs(y.upper - y.lower) + 1e-12);
    m_plot->replot();
}

}  // namespace qs::widgets
