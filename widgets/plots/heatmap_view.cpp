#include "widgets/plots/heatmap_view.h"

#include <qcustomplot.h>
#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QSlider>
#include <QSpinBox>
#include <QToolTip>
#include <QVBoxLayout>

#include <cmath>

#include "widgets/plots/plot_export.h"
#include "widgets/plots/plot_style.h"

namespace qs::widgets {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Tiles per grid row so the whole grid's aspect comes closest to the plot's.
int chooseTilesX(int channels, int rows, int cols, int gap, double aspect) {
    int best = 1;
    double bestScore = std::numeric_limits<double>::infinity();
    for (int tx = 1; tx <= channels; ++tx) {
        const int ty = (channels + tx - 1) / tx;
        const double w = static_cast<double>(tx) * (cols + gap) - gap;
        const double h = static_cast<double>(ty) * (rows + gap) - gap;
        const double score = std::fabs(std::log(w / h) - std::log(aspect));
        if (score < bestScore) bestScore = score, best = tx;
    }
    return best;
}

// QCPColorMapData with its cell array exposed: a 1 M cell map filled through setCell() costs
// a bounds-checked call per cell; this writes the array directly.
class RawMapData : public QCPColorMapData {
public:
    RawMapData() : QCPColorMapData(1, 1, QCPRange(0, 1), QCPRange(0, 1)) {}
    double* cells() { return mData; }
    void changed() { mDataModified = true; }
};

// A constant map (an exact tensor has error 0 everywhere) gets a small range centred on its
// value, so 0 error is drawn in the scale's middle (white), not at its low end.
PlotRange nonEmpty(PlotRange r) {
    if (r.max > r.min) return r;
    const double pad = std::max(std::fabs(r.min) * 1e-6, 1e-12);
    return {r.min - pad, r.max + pad};
}

// Cell centres 0 .. n-1. QCPColorMap draws a dimension of one cell across its whole range, so
// that range is the cell itself.
QCPRange cellRange(int n) {
    return n > 1 ? QCPRange(0, n - 1) : QCPRange(-0.5, 0.5);
}

}  // namespace

HeatmapView::HeatmapView(bool saturationMap, QWidget* parent)
    : QWidget(parent),
      m_saturation(saturationMap),
      m_plot(new QCustomPlot(this)),
      m_gradientBox(new QComboBox(this)),
      m_tiledBox(new QCheckBox(tr("All channels"), this)),
      m_perTileBox(new QCheckBox(tr("Range per tile"), this)),
      m_slider(new QSlider(Qt::Horizontal, this)),
      m_spin(new QSpinBox(this)),
      m_channelLabel(new QLabel(tr("Channel"), this)),
      m_info(new QLabel(this)) {
    auto* controls = new QHBoxLayout;
    controls->setContentsMargins(0, 0, 0, 0);
    if (m_saturation) {
        m_quantity = MapQuantity::Saturation;
        m_tiled = true;
    } else {
        m_quantityBox = new QComboBox(this);
        for (int q = 0; q < kMapQuantities - 1; ++q)
            m_quantityBox->addItem(mapQuantityName(static_cast<MapQuantity>(q), true), q);
        m_quantityBox->setCurrentIndex(static_cast<int>(m_quantity));
        m_quantityBox->setToolTip(tr("What the map shows; error = dequantized − float"));
        connect(m_quantityBox, &QComboBox::currentIndexChanged, this,
                [this](int i) { setQuantity(static_cast<MapQuantity>(i)); });
        controls->addWidget(m_quantityBox);
        m_gradientBox->addItem(tr("Auto colours"), static_cast<int>(Gradient::Auto));
        m_gradientBox->addItem(tr("Viridis"), static_cast<int>(Gradient::Viridis));
        m_gradientBox->addItem(tr("Diverging"), static_cast<int>(Gradient::Diverging));
        m_gradientBox->addItem(tr("Grey"), static_cast<int>(Gradient::Grayscale));
        m_gradientBox->addItem(tr("Thermal"), static_cast<int>(Gradient::Thermal));
        m_gradientBox->setToolTip(tr("Colour scale (auto: diverging for signed errors)"));
        connect(m_gradientBox, &QComboBox::currentIndexChanged, this, [this] { redraw(); });
        controls->addWidget(m_gradientBox);
    }
    m_gradientBox->setVisible(!m_saturation);
    m_tiledBox->setChecked(m_tiled);
    m_tiledBox->setToolTip(tr("Show every channel as a tile of one grid"));
    connect(m_tiledBox, &QCheckBox::toggled, this, &HeatmapView::setTiled);
    controls->addWidget(m_tiledBox);
    m_perTileBox->setToolTip(
        tr("Colour each tile (or the channel) by its own range instead of the tensor's"));
    m_perTileBox->setVisible(!m_saturation);
    connect(m_perTileBox, &QCheckBox::toggled, this, &HeatmapView::setPerTileRange);
    controls->addWidget(m_perTileBox);
    controls->addSpacing(12);
    controls->addWidget(m_channelLabel);
    m_slider->setMinimumWidth(160);
    m_slider->setRange(0, 0);
    m_spin->setRange(0, 0);
    connect(m_slider, &QSlider::valueChanged, this, &HeatmapView::setChannel);
    connect(m_spin, &QSpinBox::valueChanged, this, &HeatmapView::setChannel);
    controls->addWidget(m_slider, 1);
    controls->addWidget(m_spin);

    m_plot->setMinimumSize(200, 150);
    m_map = new QCPColorMap(m_plot->xAxis, m_plot->yAxis);
    m_map->setData(new RawMapData, false);  // the map owns it
    m_map->setInterpolate(false);
    m_map->setTightBoundary(false);
    m_scale = new QCPColorScale(m_plot);
    m_plot->plotLayout()->addElement(0, 1, m_scale);
    m_scale->setBarWidth(12);
    m_map->setColorScale(m_scale);
    auto* margins = new QCPMarginGroup(m_plot);
    m_plot->axisRect()->setMarginGroup(QCP::msBottom | QCP::msTop, margins);
    m_scale->setMarginGroup(QCP::msBottom | QCP::msTop, margins);
    m_plot->yAxis->setRangeReversed(true);  // row 0 at the top, as images are read
    for (QCPAxis* axis : {m_plot->xAxis, m_plot->yAxis}) {
        // Cells are integers: ticks on whole cells only.
        auto ticker = QSharedPointer<QCPAxisTickerFixed>::create();
        ticker->setTickStep(1.0);
        ticker->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
        axis->setTicker(ticker);
    }
    m_plot->xAxis->grid()->setVisible(false);
    m_plot->yAxis->grid()->setVisible(false);
    stylePlot(m_plot);
    m_plot->setMouseTracking(true);
    connect(m_plot, &QCustomPlot::mouseMove, this, &HeatmapView::hover);
    connect(m_plot, &QCustomPlot::mousePress, this,
            [this](QMouseEvent* e) { m_pressPos = e->position().toPoint(); });
    connect(m_plot, &QCustomPlot::mouseRelease, this, &HeatmapView::click);
    installPlotMenu(
        m_plot, [this] { return csv(); },
        m_saturation ? QStringLiteral("saturation") : QStringLiteral("heatmap"));

    m_info->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_info->setMinimumHeight(m_info->fontMetrics().height() + 4);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(controls);
    layout->addWidget(m_plot, 1);
    layout->addWidget(m_info);
    updateControls();
}

void HeatmapView::setData(std::shared_ptr<const TensorPlotData> data) {
    m_data = std::move(data);
    if (m_data && m_channel >= m_data->channels) m_channel = 0;
    if (m_quantityBox && m_data) {
        QSignalBlocker block(m_quantityBox);
        for (int q = 0; q < m_quantityBox->count(); ++q)
            m_quantityBox->setItemText(
                q, m_data->quantityName(static_cast<MapQuantity>(q)));
    }
    updateControls();
    // Hidden views (another tab) redraw when shown: switching tensors costs only the
    // visible plots.
    if (isVisible())
        redraw();
    else
        m_dirty = true;
}

void HeatmapView::clear() {
    setData(nullptr);
}

void HeatmapView::setQuantity(MapQuantity q) {
    if (m_saturation) return;
    m_quantity = q;
    if (m_quantityBox && m_quantityBox->currentIndex() != static_cast<int>(q)) {
        QSignalBlocker block(m_quantityBox);
        m_quantityBox->setCurrentIndex(static_cast<int>(q));
    }
    redraw();
}

void HeatmapView::setChannel(int channel) {
    const int max = m_data ? m_data->channels - 1 : 0;
    channel = std::clamp(channel, 0, std::max(max, 0));
    const bool changed = channel != m_channel;
    m_channel = channel;
    {
        QSignalBlocker a(m_slider), b(m_spin);
        m_slider->setValue(channel);
        m_spin->setValue(channel);
    }
    if (changed && !m_tiled) redraw();
}

void HeatmapView::setTiled(bool tiled) {
    if (m_tiledBox->isChecked() != tiled) {
        QSignalBlocker block(m_tiledBox);
        m_tiledBox->setChecked(tiled);
    }
    if (tiled == m_tiled) return;
    m_tiled = tiled;
    updateControls();
    redraw();
}

void HeatmapView::setPerTileRange(bool perTile) {
    if (m_perTileBox->isChecked() != perTile) {
        QSignalBlocker block(m_perTileBox);
        m_perTileBox->setChecked(perTile);
    }
    m_perTile = perTile;
    redraw();
}

void HeatmapView::updateControls() {
    const int channels = m_data ? m_data->channels : 1;
    {
        QSignalBlocker a(m_slider), b(m_spin);
        m_slider->setRange(0, std::max(channels - 1, 0));
        m_spin->setRange(0, std::max(channels - 1, 0));
        m_slider->setValue(m_channel);
        m_spin->setValue(m_channel);
    }
    const bool many = channels > 1;
    m_tiledBox->setEnabled(many);
    m_slider->setEnabled(many && !m_tiled);
    m_spin->setEnabled(many && !m_tiled);
    m_channelLabel->setEnabled(many && !m_tiled);
    if (m_data && !m_data->channelLabel.isEmpty())
        m_channelLabel->setText(tr("%1 (of %2)").arg(m_data->channelLabel).arg(channels));
}

void HeatmapView::applyGradient(bool signedValues) {
    if (m_saturation) {
        m_map->setGradient(saturationGradient());
        return;
    }
    const auto g = static_cast<Gradient>(m_gradientBox->currentData().toInt());
    m_map->setGradient(makeGradient(g, signedValues));
}

void HeatmapView::showEvent(QShowEvent* event) {
    QWidget::showEvent(event);
    if (m_dirty) redraw();
}

void HeatmapView::redraw() {
    m_dirty = false;
    auto* d = m_map->data();
    // With nothing to show, the plot shows nothing: no map, axes or colour scale.
    const bool empty = !m_data || m_data->elements() == 0;
    for (QCPLayerable* part :
         std::initializer_list<QCPLayerable*>{m_map, m_scale, m_plot->xAxis, m_plot->yAxis})
        part->setVisible(!empty);
    if (empty) {
        d->setSize(1, 1);
        d->setCell(0, 0, kNaN);
        m_info->setText(m_data ? tr("Empty tensor") : tr("Select a tensor in the graph or table"));
        m_plot->replot();
        return;
    }
    const TensorPlotData& t = *m_data;
    const auto q = static_cast<size_t>(m_quantity);
    const bool isSigned = mapQuantitySigned(m_quantity);
    applyGradient(isSigned);
    const bool tiled = m_tiled && t.channels > 1;
    // Signed values on a diverging scale: symmetric around 0 so white means no error.
    auto shown = [&](PlotRange r) {
        if (isSigned && !m_saturation) {
            const double m = std::max(std::fabs(r.min), std::fabs(r.max));
            return PlotRange{-m, m};
        }
        return r;
    };
    auto* raw = static_cast<RawMapData*>(d);
    const int rows = t.rows, cols = t.cols;
    // Copies channel `ch` into the cell array at (x0, y0), each value through `f`.
    auto copyTile = [&](int ch, int x0, int y0, int stride, auto&& f) {
        double* cells = raw->cells();
        const MapQuantity mq = m_quantity;
        auto run = [&](auto get) {
            for (int r = 0; r < rows; ++r) {
                double* out = cells + static_cast<qint64>(y0 + r) * stride + x0;
                const qint64 m0 = static_cast<qint64>(r) * cols;
                if (t.inner == 1) {
                    // Channels last: element (m, ch) at m * channels + ch.
                    qint64 i = m0 * t.channels + ch;
                    for (int c = 0; c < cols; ++c, i += t.channels) out[c] = f(get(i));
                } else {
                    for (int c = 0; c < cols; ++c) out[c] = f(get(t.index(ch, r, c)));
                }
            }
        };
        if (mq == MapQuantity::AbsError || mq == MapQuantity::Saturation) {
            run([&](qint64 i) { return t.value(mq, i); });
        } else {
            const float* plane = t.planes[q].data();
            run([plane](qint64 i) { return static_cast<double>(plane[i]); });
        }
    };
    auto identity = [](double v) { return v; };
    if (!tiled) {
        d->setSize(cols, rows);
        d->setRange(cellRange(cols), cellRange(rows));
        copyTile(m_channel, 0, 0, cols, identity);
        raw->changed();
        PlotRange range =
            m_perTile ? t.channelRange[q][static_cast<size_t>(m_channel)] : t.range[q];
        if (m_saturation) range = {-1, 1};
        range = shown(range);
        range = nonEmpty(range);
        m_map->setDataRange(QCPRange(range.min, range.max));
        m_scale->axis()->setLabel(t.quantityName(m_quantity) +
                                  (m_perTile ? tr(" (this channel's range)") : QString()));
        m_plot->xAxis->setLabel(t.colLabel);
        m_plot->yAxis->setLabel(
            t.channels > 1 ? tr("%1 — %2 %3").arg(t.rowLabel, t.channelLabel).arg(m_channel)
                           : t.rowLabel);
        m_plot->xAxis->setTickLabels(true);
        m_plot->yAxis->setTickLabels(true);
        m_plot->xAxis->setTicks(true);
        m_plot->yAxis->setTicks(true);
    } else {
        const int aspectW = std::max(m_plot->axisRect()->width(), 200);
        const int aspectH = std::max(m_plot->axisRect()->height(), 100);
        m_gap = std::max(1, std::min(rows, cols) / 8);
        m_tilesX =
            chooseTilesX(t.channels, rows, cols, m_gap, static_cast<double>(aspectW) / aspectH);
        const int tilesY = (t.channels + m_tilesX - 1) / m_tilesX;
        const int w = m_tilesX * (cols + m_gap) - m_gap;
        const int h = tilesY * (rows + m_gap) - m_gap;
        d->setSize(w, h);
        d->setRange(cellRange(w), cellRange(h));
        // Gaps and unused tiles are transparent (NaN); the tiles themselves are all written
        // below, so only what lies between them is filled first.
        for (int ty = 0; ty < tilesY; ++ty) {
            const qint64 y0 = static_cast<qint64>(ty) * (rows + m_gap);
            const int tiles = std::min(m_tilesX, t.channels - ty * m_tilesX);
            const int end = tiles * (cols + m_gap) - m_gap;  // after this band's last tile
            for (int r = 0; r < rows; ++r) {
                double* line = raw->cells() + (y0 + r) * w;
                for (int tx = 0; tx + 1 < tiles; ++tx)
                    std::fill_n(line + tx * (cols + m_gap) + cols, m_gap, kNaN);
                std::fill(line + end, line + w, kNaN);
            }
            if (ty + 1 < tilesY)
                std::fill_n(raw->cells() + (y0 + rows) * w, static_cast<qint64>(m_gap) * w, kNaN);
        }
        // Per channel, z = a v + b: the tensor range as is, or per tile each tile mapped onto
        // the scale by its own range ([-1, 1] signed, [0, 1] otherwise) so a quiet channel
        // still shows its pattern.
        std::vector<double> a(static_cast<size_t>(t.channels), 1.0), b(a.size(), 0.0);
        if (m_perTile && !m_saturation) {
            for (int ch = 0; ch < t.channels; ++ch) {
                const PlotRange cr = shown(t.channelRange[q][static_cast<size_t>(ch)]);
                const double span = cr.max - cr.min;
                const double half = std::max(std::fabs(cr.min), std::fabs(cr.max));
                auto& ac = a[static_cast<size_t>(ch)];
                auto& bc = b[static_cast<size_t>(ch)];
                if (isSigned)
                    ac = half > 0 ? 1.0 / half : 0.0;
                else if (span > 0)
                    ac = 1.0 / span, bc = -cr.min / span;
                else
                    ac = 0.0, bc = 0.5;
            }
        }
        if (t.inner == 1) {
            // Channels last: walk the tensor in its own order, eight positions (one cache
            // line of cells per tile) at a time, so reads stay sequential.
            double* cells = raw->cells();
            const qint64 map = static_cast<qint64>(rows) * cols;
            const int channels = t.channels;
            std::vector<double*> origin(static_cast<size_t>(channels));
            for (int ch = 0; ch < channels; ++ch)
                origin[static_cast<size_t>(ch)] =
                    cells + static_cast<qint64>((ch / m_tilesX) * (rows + m_gap)) * w +
                    (ch % m_tilesX) * (cols + m_gap);
            auto walk = [&](auto get) {
                for (qint64 m = 0; m < map; ++m) {
                    const qint64 offset = (m / cols) * w + m % cols;
                    const qint64 base = m * channels;
                    for (int ch = 0; ch < channels; ++ch) {
                        const auto c = static_cast<size_t>(ch);
                        origin[c][offset] = get(base + ch) * a[c] + b[c];
                    }
                }
            };
            if (m_quantity == MapQuantity::Saturation || m_quantity == MapQuantity::AbsError) {
                const MapQuantity mq = m_quantity;
                walk([&](qint64 i) { return t.value(mq, i); });
            } else {
                const float* plane = t.planes[q].data();
                walk([plane](qint64 i) { return static_cast<double>(plane[i]); });
            }
        } else {
            for (int ch = 0; ch < t.channels; ++ch) {
                const int x0 = (ch % m_tilesX) * (cols + m_gap);
                const int y0 = (ch / m_tilesX) * (rows + m_gap);
                const double ac = a[static_cast<size_t>(ch)], bc = b[static_cast<size_t>(ch)];
                copyTile(ch, x0, y0, w, [ac, bc](double v) { return v * ac + bc; });
            }
        }
        raw->changed();
        PlotRange range;
        if (m_saturation)
            range = {-1, 1};
        else if (m_perTile)
            range = isSigned ? PlotRange{-1, 1} : PlotRange{0, 1};
        else
            range = shown(t.range[q]);
        range = nonEmpty(range);
        m_map->setDataRange(QCPRange(range.min, range.max));
        m_scale->axis()->setLabel(
            t.quantityName(m_quantity) +
            (m_perTile && !m_saturation ? tr(" (per tile: tile min → max)") : QString()));
        m_plot->xAxis->setLabel(tr("%1 %2 tiles, %3 per row (left to right, top to bottom)")
                                    .arg(t.channels)
                                    .arg(t.channelLabel)
                                    .arg(m_tilesX));
        m_plot->yAxis->setLabel(QString());
        m_plot->xAxis->setTickLabels(false);
        m_plot->yAxis->setTickLabels(false);
        m_plot->xAxis->setTicks(false);
        m_plot->yAxis->setTicks(false);
    }
    if (m_saturation) {
        m_scale->axis()->setTicker(QSharedPointer<QCPAxisTickerText>::create());
        auto ticker = qSharedPointerCast<QCPAxisTickerText>(m_scale->axis()->ticker());
        ticker->addTick(-1, tr("qmin %1").arg(t.qmin));
        ticker->addTick(0, tr("inside"));
        ticker->addTick(1, tr("qmax %1").arg(t.qmax));
        m_scale->axis()->setLabel(QString());
    }
    // The whole map, edge cells included.
    m_plot->xAxis->setRange(-0.5, d->keySize() - 0.5);
    m_plot->yAxis->setRange(-0.5, d->valueSize() - 0.5);
    fitSquareCells();
    m_info->setText(summary());
    m_plot->replot();
}

void HeatmapView::fitSquareCells() {
    // The tile grid keeps square cells (its tiles per row are chosen for the plot's shape,
    // so little space is lost); one channel fills the plot, which a square map in a wide
    // dock would not. A strip (one row of features, a very long map) keeps the plot's shape.
    const auto* d = m_map->data();
    const double ratio = static_cast<double>(d->keySize()) / std::max(d->valueSize(), 1);
    if (m_tiled && d->keySize() > 1 && d->valueSize() > 1 && ratio > 1.0 / 24 && ratio < 24) {
        m_plot->xAxis->setRange(-0.5, d->keySize() - 0.5);
        m_plot->yAxis->setRange(-0.5, d->valueSize() - 0.5);
        // Widen whichever axis has room so one cell is as wide as it is high.
        const QRect r = m_plot->axisRect()->rect();
        const double px = r.width() / m_plot->xAxis->range().size();
        const double py = r.height() / m_plot->yAxis->range().size();
        if (px > py)
            m_plot->xAxis->setScaleRatio(m_plot->yAxis, 1.0);
        else
            m_plot->yAxis->setScaleRatio(m_plot->xAxis, 1.0);
    }
}

void HeatmapView::resizeEvent(QResizeEvent* event) {
    QWidget::resizeEvent(event);
    if (!m_data) return;
    fitSquareCells();
    m_plot->replot(QCustomPlot::rpQueuedReplot);
}

QString HeatmapView::summary() const {
    if (!m_data) return {};
    const TensorPlotData& t = *m_data;
    if (m_saturation) {
        if (!t.quantized) return tr("Float tensor: no integer range to saturate");
        const double n = std::max<double>(static_cast<double>(t.elements()), 1.0);
        QString text = tr("%1 elements at qmin (%2 %), %3 at qmax (%4 %) — hover for values")
                           .arg(t.atQmin)
                           .arg(num(100.0 * static_cast<double>(t.atQmin) / n))
                           .arg(t.atQmax)
                           .arg(num(100.0 * static_cast<double>(t.atQmax) / n));
        // After a ReLU qmin is the float 0: hitting it is the activation, not clipping.
        if (t.representableMin == 0.0) text += tr("; qmin is 0.0 here (ReLU zeros)");
        return text;
    }
    const PlotRange r = t.range[static_cast<size_t>(m_quantity)];
    return tr("%1 over the tensor: [%2, %3] — hover for values")
        .arg(t.quantityName(m_quantity), num(r.min), num(r.max));
}

bool HeatmapView::cellAt(int key, int value, int* channel, int* row, int* col) const {
    if (!m_data) return false;
    const TensorPlotData& t = *m_data;
    if (!(m_tiled && t.channels > 1)) {
        if (key < 0 || key >= t.cols || value < 0 || value >= t.rows) return false;
        *channel = m_channel, *row = value, *col = key;
        return true;
    }
    if (key < 0 || value < 0) return false;
    const int tx = key / (t.cols + m_gap), cx = key % (t.cols + m_gap);
    const int ty = value / (t.rows + m_gap), cy = value % (t.rows + m_gap);
    if (tx >= m_tilesX || cx >= t.cols || cy >= t.rows) return false;
    const int ch = ty * m_tilesX + tx;
    if (ch >= t.channels) return false;
    *channel = ch, *row = cy, *col = cx;
    return true;
}

QString HeatmapView::describe(int channel, int row, int col) const {
    if (!m_data) return {};
    const TensorPlotData& t = *m_data;
    const qint64 i = t.index(channel, row, col);
    if (i < 0 || i >= t.elements()) return {};
    const auto at = [&](MapQuantity q) { return t.value(q, i); };
    QString where = t.coordinates ? t.coordinates(channel, row, col)
                                  : QStringLiteral("[%1, %2, %3]").arg(channel).arg(row).arg(col);
    if (t.describeElement) return where + QStringLiteral("  ") + t.describeElement(i);
    QString text = tr("%1  float %2").arg(where, num(at(MapQuantity::Reference)));
    if (t.quantized) {
        text += tr("  int %1  dequantized %2")
                    .arg(t.stored[static_cast<size_t>(i)])
                    .arg(num(at(MapQuantity::Dequantized)));
    } else {
        text += tr("  engine %1").arg(num(at(MapQuantity::Dequantized)));
    }
    text += tr("  error %1").arg(num(at(MapQuantity::Error)));
    if (t.quantized) text += tr(" (%1 LSB)").arg(num(at(MapQuantity::ErrorLsb)));
    if (t.quantized && at(MapQuantity::Saturation) != 0)
        text += at(MapQuantity::Saturation) < 0 ? tr("  at qmin") : tr("  at qmax");
    return text;
}

void HeatmapView::hover(QMouseEvent* event) {
    if (!m_data) return;
    const double key = m_plot->xAxis->pixelToCoord(event->position().x());
    const double value = m_plot->yAxis->pixelToCoord(event->position().y());
    int ch = 0, row = 0, col = 0;
    if (!cellAt(static_cast<int>(std::lround(key)), static_cast<int>(std::lround(value)), &ch, &row,
                &col)) {
        m_info->setText(summary());
        return;
    }
    const QString text = describe(ch, row, col);
    m_info->setText(text);
    QToolTip::showText(event->globalPosition().toPoint(), text, m_plot);
}

void HeatmapView::click(QMouseEvent* event) {
    if (!m_data || event->button() != Qt::LeftButton ||
        (event->position().toPoint() - m_pressPos).manhattanLength() > 4)
        return;
    const double key = m_plot->xAxis->pixelToCoord(event->position().x());
    const double value = m_plot->yAxis->pixelToCoord(event->position().y());
    int ch = 0, row = 0, col = 0;
    if (!cellAt(static_cast<int>(std::lround(key)), static_cast<int>(std::lround(value)), &ch, &row,
                &col))
        return;
    const qint64 i = m_data->index(ch, row, col);
    emit elementClicked(m_data->coordinatesOf(i), i);
}

QString HeatmapView::csv() const {
    if (!m_data) return {};
    const TensorPlotData& t = *m_data;
    QString out;
    out += QStringLiteral("channel,row,col,index,float,dequantized,int,error,error_lsb\n");
    const int c0 = m_tiled ? 0 : m_channel, c1 = m_tiled ? t.channels : m_channel + 1;
    out.reserve(static_cast<qsizetype>((c1 - c0)) * t.rows * t.cols * 48);
    for (int ch = c0; ch < c1; ++ch)
        for (int r = 0; r < t.rows; ++r)
            for (int c = 0; c < t.cols; ++c) {
                const auto i = static_cast<size_t>(t.index(ch, r, c));
                QString where = t.coordinates ? t.coordinates(ch, r, c) : QString();
                where.replace(QLatin1Char(','), QLatin1Char(' '));
                out += QStringLiteral("%1,%2,%3,%4,%5,%6,%7,%8,%9\n")
                           .arg(ch)
                           .arg(r)
                           .arg(c)
                           .arg(where)
                           .arg(static_cast<double>(t.planes[0][i]), 0, 'g', 9)
                           .arg(static_cast<double>(t.planes[1][i]), 0, 'g', 9)
                           .arg(t.quantized ? QString::number(t.stored[i]) : QString())
                           .arg(static_cast<double>(t.planes[2][i]), 0, 'g', 9)
                           .arg(t.quantized ? QString::number(t.planes[3][i], 'g', 6) : QString());
            }
    return out;
}

}  // namespace qs::widgets
