#include "widgets/playground/playground_view.h"

#include <qcustomplot.h>
#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QScrollArea>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QStandardItemModel>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

#include "widgets/plots/plot_export.h"
#include "widgets/plots/plot_style.h"

namespace qs::widgets {

namespace {

// Handles are grabbed within this many pixels.
constexpr double kGrabPixels = 7.0;
// Grid lines are drawn when neighbouring levels are at least this many pixels apart.
constexpr double kMinLinePixels = 3.5;

QString frameCsv(const PlaygroundFrame& f) {
    QString out = QStringLiteral("bin_low,bin_high,inside,clipped\n");
    for (int b = 0; b < f.inside.size(); ++b)
        out += QStringLiteral("%1,%2,%3,%4\n")
                   .arg(f.binLo + b * f.binWidth, 0, 'g', 9)
                   .arg(f.binLo + (b + 1) * f.binWidth, 0, 'g', 9)
                   .arg(static_cast<qint64>(f.inside[b]))
                   .arg(static_cast<qint64>(f.clipped.value(b)));
    return out;
}

QString metricCell(double v, int precision = 4) {
    if (std::isnan(v)) return QStringLiteral("–");
    if (std::isinf(v)) return v > 0 ? QStringLiteral("∞") : QStringLiteral("−∞");
    return QString::number(v, 'g', precision);
}

}  // namespace

PlaygroundView::PlaygroundView(QWidget* parent)
    : QWidget(parent), m_plot(new QCustomPlot(this)), m_channelPlot(new QCustomPlot(this)) {
    buildControls();

    // Value plot: band first so it lies under the bars.
    m_band = new QCPItemRect(m_plot);
    m_band->setLayer(QStringLiteral("grid"));
    m_band->topLeft->setTypeY(QCPItemPosition::ptAxisRectRatio);
    m_band->bottomRight->setTypeY(QCPItemPosition::ptAxisRectRatio);
    QColor band = plotAccent(2);
    band.setAlpha(38);
    m_band->setBrush(band);
    m_band->setPen(Qt::NoPen);
    m_inside = new QCPBars(m_plot->xAxis, m_plot->yAxis);
    m_inside->setPen(Qt::NoPen);
    m_inside->setBrush(plotAccent(0));
    m_inside->setName(tr("values rounded to a level"));
    m_clippedBars = new QCPBars(m_plot->xAxis, m_plot->yAxis);
    m_clippedBars->setPen(Qt::NoPen);
    m_clippedBars->setBrush(clipColour());
    m_clippedBars->setName(tr("clipped (clamped to qmin/qmax)"));
    m_gridLines = new QCPGraph(m_plot->xAxis, m_plot->yAxis);
    m_gridLines->setLineStyle(QCPGraph::lsImpulse);
    m_gridLines->setName(tr("quantization levels"));
    m_zeroLine = new QCPItemStraightLine(m_plot);
    m_zeroLine->setPen(QPen(plotAccent(3), 1.5, Qt::DashLine));
    m_lowHandle = new QCPItemStraightLine(m_plot);
    m_highHandle = new QCPItemStraightLine(m_plot);
    for (auto* h : {m_lowHandle, m_highHandle}) {
        h->setPen(QPen(QColor(150, 20, 20), 3));
        h->setSelectable(false);
    }
    m_info = new QCPItemText(m_plot);
    m_info->setPositionAlignment(Qt::AlignTop | Qt::AlignLeft);
    m_info->position->setType(QCPItemPosition::ptAxisRectRatio);
    m_info->position->setCoords(0.01, 0.02);
    m_info->setTextAlignment(Qt::AlignLeft);
    m_info->setPadding(QMargins(4, 2, 4, 2));
    m_plot->xAxis->setLabel(
        tr("float value (drag the red range ends; drag inside the band to "
           "move the zero point)"));
    m_plot->yAxis->setLabel(tr("count"));
    m_plot->xAxis2->setVisible(true);
    m_plot->xAxis2->setLabel(tr("stored integer q = round(x / scale) + zero point"));
    m_plot->setMinimumSize(420, 200);
    legendBelow(m_plot);
    stylePlot(m_plot);
    m_plot->setCursor(Qt::CrossCursor);
    // The wheel zooms the value axis (grid lines appear once levels are far enough apart);
    // dragging is ours (handles, band), not QCustomPlot's panning.
    m_plot->setInteraction(QCP::iRangeZoom, true);
    m_plot->axisRect()->setRangeZoom(Qt::Horizontal);
    connect(m_plot->xAxis, qOverload<const QCPRange&>(&QCPAxis::rangeChanged), this,
            [this] { drawGridLines(); });
    connect(m_plot, &QCustomPlot::mousePress, this, &PlaygroundView::mousePressed);
    connect(m_plot, &QCustomPlot::mouseMove, this, &PlaygroundView::mouseMoved);
    connect(m_plot, &QCustomPlot::mouseRelease, this, &PlaygroundView::mouseReleased);
    installPlotMenu(
        m_plot, [this] { return frameCsv(m_frame); }, QStringLiteral("playground-histogram"));

    // Channel plot: SQNR per channel, current grids against the other granularity.
    m_channelMark = new QCPItemRect(m_channelPlot);
    m_channelMark->setLayer(QStringLiteral("grid"));
    m_channelMark->topLeft->setTypeY(QCPItemPosition::ptAxisRectRatio);
    m_channelMark->bottomRight->setTypeY(QCPItemPosition::ptAxisRectRatio);
    QColor mark = plotAccent(1);
    mark.setAlpha(60);
    m_channelMark->setBrush(mark);
    m_channelMark->setPen(Qt::NoPen);
    auto* group = new QCPBarsGroup(m_channelPlot);
    m_channelBars = new QCPBars(m_channelPlot->xAxis, m_channelPlot->yAxis);
    m_otherBars = new QCPBars(m_channelPlot->xAxis, m_channelPlot->yAxis);
    m_channelBars->setBrush(plotAccent(0));
    m_otherBars->setBrush(QColor(150, 150, 150));
    for (auto* b : {m_channelBars, m_otherBars}) {
        b->setPen(Qt::NoPen);
        b->setWidth(0.4);
        b->setBarsGroup(group);
    }
    QSharedPointer<QCPAxisTickerFixed> integers(new QCPAxisTickerFixed);
    integers->setTickStep(1.0);
    integers->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
    m_channelPlot->xAxis->setTicker(integers);
    m_channelPlot->xAxis->setLabel(
        tr("channel (click to show it above; ∞ SQNR: no error, drawn "
           "at the top)"));
    m_channelPlot->yAxis->setLabel(tr("SQNR (dB)"));
    m_channelPlot->setMinimumSize(420, 110);
    legendBelow(m_channelPlot);
    stylePlot(m_channelPlot);
    connect(m_channelPlot, &QCustomPlot::mousePress, this, [this](QMouseEvent* e) {
        if (!m_frame.hasChannels) return;
        const int c =
            static_cast<int>(std::lround(m_channelPlot->xAxis->pixelToCoord(e->position().x())));
        if (c >= 0 && c < m_frame.channels) emit channelChosen(c);
    });
    installPlotMenu(
        m_channelPlot,
        [this] {
            QString out = QStringLiteral("channel,sqnr_db,other_sqnr_db\n");
            for (int c = 0; c < m_frame.channelSqnr.size(); ++c)
                out += QStringLiteral("%1,%2,%3\n")
                           .arg(c)
                           .arg(m_frame.channelSqnr[c], 0, 'g', 9)
                           .arg(m_frame.otherChannelSqnr.value(c), 0, 'g', 9);
            return out;
        },
        QStringLiteral("playground-channels"));

    m_metrics = new QLabel(this);
    m_metrics->setTextFormat(Qt::RichText);
    m_metrics->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    m_metrics->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_metrics->setMinimumWidth(250);
    m_metrics->setWordWrap(true);
    m_description = new QLabel(this);
    m_description->setWordWrap(true);
    m_description->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto* plots = new QVBoxLayout;
    plots->addWidget(m_plot, 3);
    plots->addWidget(m_channelPlot, 2);
    auto* middle = new QHBoxLayout;
    middle->addLayout(plots, 1);
    // Scrolls when large fonts (workshop mode) make the metrics taller than the plots.
    auto* metricsScroll = new QScrollArea(this);
    metricsScroll->setWidget(m_metrics);
    metricsScroll->setWidgetResizable(true);
    metricsScroll->setFrameShape(QFrame::NoFrame);
    metricsScroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    metricsScroll->setMinimumWidth(270);
    middle->addWidget(metricsScroll);
    auto* layout = qobject_cast<QVBoxLayout*>(this->layout());
    layout->addWidget(m_description);
    layout->addLayout(middle, 1);
    m_channelPlot->hide();
    redraw();
}

void PlaygroundView::buildControls() {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    auto* grid = new QGridLayout;
    layout->addLayout(grid);

    m_source = new QComboBox(this);
    m_source->setToolTip(
        tr("The values to quantize: a seeded distribution, or the tensor selected "
           "in the main window"));
    connect(m_source, &QComboBox::activated, this, [this](int i) { emit sourceChosen(i); });
    m_seed = new QSpinBox(this);
    m_seed->setRange(0, 1'000'000);
    m_seed->setKeyboardTracking(false);
    m_seed->setToolTip(tr("Seed of the distribution (same seed, same values)"));
    connect(m_seed, &QSpinBox::valueChanged, this,
            [this](int v) { emit seedChosen(static_cast<quint64>(v)); });
    m_dtype = new QComboBox(this);
    m_dtype->addItems({QStringLiteral("int8"), QStringLiteral("uint8"), QStringLiteral("int16")});
    m_dtype->setToolTip(tr("Stored integer type"));
    connect(m_dtype, &QComboBox::activated, this,
            [this](int i) { emit dtypeChosen(static_cast<PlayDType>(i)); });
    m_symmetry = new QComboBox(this);
    m_symmetry->addItems({tr("asymmetric"), tr("symmetric")});
    m_symmetry->setToolTip(
        tr("Symmetric: the zero point is fixed (0, or 128 for uint8) and the "
           "range is symmetric about it, as TFLite's weights"));
    connect(m_symmetry, &QComboBox::activated, this,
            [this](int i) { emit symmetricChosen(i == 1); });
    m_granularity = new QComboBox(this);
    m_granularity->addItems({tr("per-tensor"), tr("per-channel")});
    m_granularity->setToolTip(tr("One scale for the whole tensor, or one scale per channel"));
    connect(m_granularity, &QComboBox::activated, this,
            [this](int i) { emit perChannelChosen(i == 1); });
    m_channel = new QSpinBox(this);
    m_channel->setKeyboardTracking(false);
    m_channel->setToolTip(tr("The channel shown in the histogram (per-channel)"));
    connect(m_channel, &QSpinBox::valueChanged, this, [this](int c) { emit channelChosen(c); });

    m_scale = new QDoubleSpinBox(this);
    m_scale->setDecimals(9);
    m_scale->setRange(1e-9, 1e9);
    m_scale->setStepType(QAbstractSpinBox::AdaptiveDecimalStepType);
    m_scale->setKeyboardTracking(false);
    m_scale->setToolTip(tr("Scale: the float distance between two neighbouring levels (1 LSB)"));
    connect(m_scale, &QDoubleSpinBox::valueChanged, this,
            [this](double s) { emit scaleEdited(s); });
    m_zeroPoint = new QSpinBox(this);
    m_zeroPoint->setRange(-32768, 32767);
    m_zeroPoint->setKeyboardTracking(false);
    m_zeroPoint->setToolTip(tr("Zero point: the stored integer that represents 0.0"));
    connect(m_zeroPoint, &QSpinBox::valueChanged, this, [this](int z) { emit zeroPointEdited(z); });
    m_lo = new QDoubleSpinBox(this);
    m_hi = new QDoubleSpinBox(this);
    for (auto* s : {m_lo, m_hi}) {
        s->setDecimals(6);
        s->setRange(-1e9, 1e9);
        s->setStepType(QAbstractSpinBox::AdaptiveDecimalStepType);
        s->setKeyboardTracking(false);
    }
    m_lo->setToolTip(tr("Low end of the range to quantize (scale and zero point follow)"));
    m_hi->setToolTip(tr("High end of the range to quantize (scale and zero point follow)"));
    connect(m_lo, &QDoubleSpinBox::valueChanged, this,
            [this](double v) { emit rangeEdited(v, m_hi->value()); });
    connect(m_hi, &QDoubleSpinBox::valueChanged, this,
            [this](double v) { emit rangeEdited(m_lo->value(), v); });

    m_minMax = new QPushButton(tr("Min/max"), this);
    m_minMax->setToolTip(tr("Range = the values' min and max (TFLite's default calibration)"));
    m_percentile = new QPushButton(tr("Percentile 99.99 %"), this);
    m_percentile->setToolTip(tr("Range = the 99.99th percentile: rare outliers clip"));
    m_mse = new QPushButton(tr("MSE-optimal"), this);
    m_mse->setToolTip(tr("The clipping range with the smallest mean squared error (searched)"));
    connect(m_minMax, &QPushButton::clicked, this,
            [this] { emit calibrationRequested(PlayCalibration::MinMax); });
    connect(m_percentile, &QPushButton::clicked, this,
            [this] { emit calibrationRequested(PlayCalibration::Percentile); });
    connect(m_mse, &QPushButton::clicked, this,
            [this] { emit calibrationRequested(PlayCalibration::MseOptimal); });
    m_log = new QCheckBox(tr("Log counts"), this);
    m_log->setToolTip(tr("Logarithmic count axis (shows rare outliers and clipped tails)"));
    connect(m_log, &QCheckBox::toggled, this, [this] { redraw(); });

    auto label = [this](const QString& t) { return new QLabel(t, this); };
    grid->addWidget(label(tr("Values:")), 0, 0);
    grid->addWidget(m_source, 0, 1, 1, 3);
    grid->addWidget(label(tr("Seed:")), 0, 4);
    grid->addWidget(m_seed, 0, 5);
    grid->addWidget(label(tr("Type:")), 0, 6);
    grid->addWidget(m_dtype, 0, 7);
    grid->addWidget(m_symmetry, 0, 8);
    grid->addWidget(m_granularity, 0, 9);
    grid->addWidget(label(tr("Channel:")), 0, 10);
    grid->addWidget(m_channel, 0, 11);
    grid->addWidget(label(tr("Scale:")), 1, 0);
    grid->addWidget(m_scale, 1, 1);
    grid->addWidget(label(tr("Zero point:")), 1, 2);
    grid->addWidget(m_zeroPoint, 1, 3);
    grid->addWidget(label(tr("Range:")), 1, 4);
    grid->addWidget(m_lo, 1, 5);
    grid->addWidget(label(tr("to")), 1, 6);
    grid->addWidget(m_hi, 1, 7);
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(m_minMax);
    buttons->addWidget(m_percentile);
    buttons->addWidget(m_mse);
    buttons->addWidget(m_log);
    grid->addLayout(buttons, 1, 8, 1, 4);
    grid->setColumnStretch(1, 1);
}

bool PlaygroundView::gridLinesShown() const {
    return m_gridLines->visible() && !m_gridLines->data()->isEmpty();
}

double PlaygroundView::pixelForValue(double x) const {
    return m_plot->xAxis->coordToPixel(x);
}

void PlaygroundView::setFrame(const PlaygroundFrame& frame) {
    m_frame = frame;
    updateControls();
    redraw();
    redrawChannels();
}

void PlaygroundView::updateControls() {
    const PlaygroundFrame& f = m_frame;
    const QSignalBlocker b1(m_source), b2(m_seed), b3(m_dtype), b4(m_symmetry), b5(m_granularity),
        b6(m_channel), b7(m_scale), b8(m_zeroPoint), b9(m_lo), b10(m_hi);
    if (m_source->count() != f.sources.size()) {
        m_source->clear();
        m_source->addItems(f.sources);
    } else {
        for (int i = 0; i < f.sources.size(); ++i) m_source->setItemText(i, f.sources[i]);
    }
    // Unavailable sources (no tensor selected) stay listed but disabled.
    if (auto* model = qobject_cast<QStandardItemModel*>(m_source->model())) {
        for (int i = 0; i < f.sourceEnabled.size() && i < model->rowCount(); ++i)
            model->item(i)->setEnabled(f.sourceEnabled[i]);
    }
    m_source->setCurrentIndex(f.source);
    m_seed->setValue(static_cast<int>(f.seed));
    m_seed->setEnabled(f.seeded);
    m_dtype->setCurrentIndex(static_cast<int>(f.dtype));
    m_symmetry->setCurrentIndex(f.symmetric ? 1 : 0);
    m_granularity->setCurrentIndex(f.perChannel ? 1 : 0);
    m_channel->setRange(0, std::max(f.channels - 1, 0));
    m_channel->setValue(f.channel);
    m_channel->setEnabled(f.hasChannels && f.perChannel);
    m_scale->setValue(f.scale);
    m_zeroPoint->setRange(static_cast<int>(f.qmin), static_cast<int>(f.qmax));
    m_zeroPoint->setValue(static_cast<int>(f.zeroPoint));
    m_zeroPoint->setEnabled(!f.symmetric);
    m_lo->setValue(f.representableMin);
    m_hi->setValue(f.representableMax);
    m_description->setText(f.error.isEmpty() ? f.sourceDescription
                                             : tr("<b>Error:</b> %1").arg(f.error.toHtmlEscaped()));
}

void PlaygroundView::redraw() {
    const PlaygroundFrame& f = m_frame;
    const bool log = m_log->isChecked();
    m_plot->yAxis->setScaleType(log ? QCPAxis::stLogarithmic : QCPAxis::stLinear);
    m_plot->yAxis->setTicker(log ? QSharedPointer<QCPAxisTicker>(new QCPAxisTickerLog)
                                 : QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
    QVector<double> keys(f.inside.size());
    double maxCount = 1;
    for (int b = 0; b < f.inside.size(); ++b) {
        keys[b] = f.binLo + (b + 0.5) * f.binWidth;
        maxCount = std::max({maxCount, f.inside[b], f.clipped.value(b)});
    }
    m_inside->setWidth(f.binWidth);
    m_clippedBars->setWidth(f.binWidth);
    m_inside->setData(keys, f.inside, true);
    m_clippedBars->setData(
        keys, f.clipped.size() == keys.size() ? f.clipped : QVector<double>(keys.size()), true);
    // A new view from the controller resets the user's zoom; the same view keeps it.
    if (f.viewLo != m_lastViewLo || f.viewHi != m_lastViewHi) {
        m_lastViewLo = f.viewLo;
        m_lastViewHi = f.viewHi;
        m_plot->xAxis->setRange(f.viewLo, f.viewHi);
    }
    // Headroom above the tallest bar for the three-line info box in the top-left corner, so it
    // does not cover bars (its share of the axis rect grows with workshop-size fonts).
    const int rectPx = m_plot->axisRect()->height();
    const double boxPx = QFontMetricsF(m_info->font()).lineSpacing() * 3 + 12;
    const double share = rectPx > 0 ? std::clamp(boxPx / rectPx, 0.13, 0.6) : 0.25;
    const double top =
        log ? 0.8 * std::pow(maxCount / 0.8, 1.0 / (1.0 - share)) : maxCount / (1.0 - share);
    m_plot->yAxis->setRange(log ? 0.8 : 0, top);
    drawGridLines();
    m_band->topLeft->setCoords(f.representableMin, 0);
    m_band->bottomRight->setCoords(f.representableMax, 1);
    m_lowHandle->point1->setCoords(f.representableMin, 0);
    m_lowHandle->point2->setCoords(f.representableMin, 1);
    m_highHandle->point1->setCoords(f.representableMax, 0);
    m_highHandle->point2->setCoords(f.representableMax, 1);
    m_zeroLine->point1->setCoords(0, 0);
    m_zeroLine->point2->setCoords(0, 1);
    const bool lines = gridLinesShown();
    const qint64 levels = f.qmax - f.qmin + 1;
    QString info = tr("scale %1, zero point %2: q in [%3, %4] = [%5, %6]")
                       .arg(num(f.scale))
                       .arg(f.zeroPoint)
                       .arg(f.qmin)
                       .arg(f.qmax)
                       .arg(num(f.representableMin), num(f.representableMax));
    info +=
        QLatin1Char('\n') +
        (lines ? tr("%1 levels; thin lines: the levels, dashed: 0.0 (stored as %2)")
                     .arg(levels)
                     .arg(f.zeroPoint)
               : tr("%1 levels, too dense to draw one by one: the band is the range").arg(levels));
    info +=
        QLatin1Char('\n') +
        tr("clipped: %1 values (%2 %)").arg(f.total.clipped).arg(metricCell(f.total.clippedPct, 3));
    m_info->setText(info);
    m_info->setColor(palette().color(QPalette::WindowText));
    QColor backdrop = palette().color(QPalette::Base);
    backdrop.setAlpha(215);  // readable over the bars
    m_info->setBrush(backdrop);

    // Metrics table.
    const bool channel = f.hasChannels && f.perChannel;
    auto row = [&](const QString& name, double a, double b, const QString& tip = QString()) {
        QString r = QStringLiteral("<tr><td>%1</td><td align=right><b>%2</b></td>")
                        .arg(name, metricCell(a));
        if (channel) r += QStringLiteral("<td align=right>%1</td>").arg(metricCell(b));
        if (!tip.isEmpty()) r += QStringLiteral("<td><small>%1</small></td>").arg(tip);
        return r + QStringLiteral("</tr>");
    };
    const PlayMetrics& t = f.total;
    const PlayMetrics& c = f.channelMetrics;
    QString html =
        QStringLiteral("<table cellspacing=3><tr><th></th><th>%1</th>%2</tr>")
            .arg(tr("tensor"),
                 channel ? QStringLiteral("<th>%1</th>").arg(tr("channel %1").arg(f.channel))
                         : QString());
    html += row(tr("RMSE"), t.rmse, c.rmse);
    html += row(tr("RMSE/scale (LSB)"), t.rmseLsb, c.rmseLsb);
    html += row(tr("max |error|"), t.maxAbs, c.maxAbs);
    html += row(tr("SQNR (dB)"), t.sqnrDb, c.sqnrDb);
    html += row(tr("clipped (%)"), t.clippedPct, c.clippedPct);
    html += QStringLiteral("</table>");
    html +=
        tr("<p><small>Pure rounding of values spread evenly over the levels gives "
           "RMSE/scale = 1/√12 ≈ 0.289 LSB; more means clipping (or coarse data), less "
           "means values sitting on levels.</small></p>");
    if (f.hasChannels)
        html += tr("<p>%1: SQNR <b>%2 dB</b></p>").arg(f.otherLabel, metricCell(f.otherSqnrDb));
    html += tr("<p><small>%1 values</small></p>").arg(t.count);
    m_metrics->setText(html);
    m_plot->replot();
}

void PlaygroundView::drawGridLines() {
    const PlaygroundFrame& f = m_frame;
    // Lines at every level in view when neighbours are far enough apart, else only the band.
    const QCPRange view = m_plot->xAxis->range();
    const double top = m_plot->yAxis->range().upper;
    QVector<double> gk, gv;
    const double pixelsPerLevel =
        std::fabs(m_plot->xAxis->coordToPixel(f.scale) - m_plot->xAxis->coordToPixel(0.0));
    const double width = m_plot->axisRect()->width() > 0 ? m_plot->axisRect()->width() : 600;
    const bool lines = f.scale > 0 && f.error.isEmpty() && pixelsPerLevel >= kMinLinePixels &&
                       view.size() / f.scale <= width / kMinLinePixels;
    if (lines) {
        const double lo = std::max(view.lower, f.representableMin);
        const double hi = std::min(view.upper, f.representableMax);
        const double first = std::ceil(lo / f.scale - 1e-9);
        for (double k = first; k * f.scale <= hi + 1e-9 * f.scale; k += 1.0)
            gk << k * f.scale, gv << top;
    }
    QColor gridColour = palette().color(QPalette::WindowText);
    gridColour.setAlpha(90);
    m_gridLines->setPen(QPen(gridColour, 1));
    m_gridLines->setData(gk, gv, true);
    m_gridLines->setVisible(!gk.isEmpty());
    // The top axis shows stored integers: q = x / s + zp.
    m_plot->xAxis2->setRange(view.lower / f.scale + static_cast<double>(f.zeroPoint),
                             view.upper / f.scale + static_cast<double>(f.zeroPoint));
}

void PlaygroundView::redrawChannels() {
    const PlaygroundFrame& f = m_frame;
    m_channelPlot->setVisible(f.hasChannels);
    if (!f.hasChannels) return;
    QVector<double> keys(f.channelSqnr.size());
    double lo = 0, hi = 1;
    for (int c = 0; c < keys.size(); ++c) {
        keys[c] = c;
        for (double v : {f.channelSqnr[c], f.otherChannelSqnr.value(c)})
            if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
    }
    // Infinite SQNR (no error at all) is drawn at the top of the axis.
    auto finite = [hi](QVector<double> v) {
        for (double& x : v)
            if (!std::isfinite(x)) x = x > 0 ? hi * 1.05 : 0.0;
        return v;
    };
    m_channelBars->setName(f.perChannel ? tr("one scale per channel (current)")
                                        : tr("one shared scale (current)"));
    m_otherBars->setName(f.otherLabel);
    m_channelBars->setData(keys, finite(f.channelSqnr), true);
    m_otherBars->setData(keys, finite(f.otherChannelSqnr), true);
    m_channelPlot->xAxis->setRange(-0.6, std::max(f.channels, 1) - 0.4);
    m_channelPlot->yAxis->setRange(lo, hi * 1.1);
    m_channelMark->setVisible(f.perChannel);
    m_channelMark->topLeft->setCoords(f.channel - 0.5, 0);
    m_channelMark->bottomRight->setCoords(f.channel + 0.5, 1);
    m_channelPlot->replot();
}

PlaygroundView::Drag PlaygroundView::hitTest(double px, double py) const {
    if (!m_plot->axisRect()->rect().contains(QPoint(static_cast<int>(px), static_cast<int>(py))))
        return Drag::None;
    const double lo = pixelForValue(m_frame.representableMin);
    const double hi = pixelForValue(m_frame.representableMax);
    const double dl = std::fabs(px - lo), dh = std::fabs(px - hi);
    if (std::min(dl, dh) <= kGrabPixels) return dl <= dh ? Drag::Low : Drag::High;
    if (!m_frame.symmetric && px > lo && px < hi) return Drag::Band;
    return Drag::None;
}

void PlaygroundView::mousePressed(QMouseEvent* event) {
    if (event->button() != Qt::LeftButton || !m_frame.error.isEmpty()) return;
    m_drag = hitTest(event->position().x(), event->position().y());
    m_dragStartX = m_plot->xAxis->pixelToCoord(event->position().x());
    m_dragStartZp = m_frame.zeroPoint;
    if (m_drag == Drag::Band) m_plot->setCursor(Qt::ClosedHandCursor);
}

void PlaygroundView::mouseMoved(QMouseEvent* event) {
    const double x = m_plot->xAxis->pixelToCoord(event->position().x());
    switch (m_drag) {
        case Drag::None: {
            const Drag over = hitTest(event->position().x(), event->position().y());
            m_plot->setCursor(over == Drag::Band   ? Qt::OpenHandCursor
                              : over == Drag::None ? Qt::CrossCursor
                                                   : Qt::SizeHorCursor);
            return;
        }
        case Drag::Low:
            // Symmetric grids are symmetric about 0: one end drags both.
            if (m_frame.symmetric)
                emit rangeEdited(-std::fabs(x), std::fabs(x));
            else
                emit rangeEdited(std::min(x, m_frame.representableMax), m_frame.representableMax);
            return;
        case Drag::High:
            if (m_frame.symmetric)
                emit rangeEdited(-std::fabs(x), std::fabs(x));
            else
                emit rangeEdited(m_frame.representableMin, std::max(x, m_frame.representableMin));
            return;
        case Drag::Band: {
            // Moving the band right by dx moves every level right: zp falls by dx / scale.
            const auto steps =
                static_cast<qint64>(std::llround((x - m_dragStartX) / m_frame.scale));
            const qint64 zp = std::clamp(m_dragStartZp - steps, m_frame.qmin, m_frame.qmax);
            if (zp != m_frame.zeroPoint) emit zeroPointEdited(zp);
            return;
        }
    }
}

void PlaygroundView::mouseReleased(QMouseEvent*) {
    if (m_drag == Drag::None) return;
    m_drag = Drag::None;
    m_plot->setCursor(Qt::CrossCursor);
    // The wheel zooms the value axis (grid lines appear once levels are far enough apart);
    // dragging is ours (handles, band), not QCustomPlot's panning.
    m_plot->setInteraction(QCP::iRangeZoom, true);
    m_plot->axisRect()->setRangeZoom(Qt::Horizontal);
    connect(m_plot->xAxis, qOverload<const QCPRange&>(&QCPAxis::rangeChanged), this,
            [this] { drawGridLines(); });
    emit dragFinished();
}

}  // namespace qs::widgets
