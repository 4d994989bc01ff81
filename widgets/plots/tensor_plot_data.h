// What the tensor views draw of one tensor: plain values prepared by the app from
// engine/analysis/tensor_views.h. The views draw these numbers as they are; they compute no
// statistics of their own. The maps' planes are read where the app keeps them (`storage`);
// histograms and density are made by the app's function when a view first asks for them, so
// switching tensors costs only what the visible tab draws.
#pragma once

#include <QString>
#include <QVector>
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <utility>
#include <vector>

namespace qs::widgets {

struct PlotRange {
    double min = 0, max = 0;
};

struct PlotHistogram {
    double lo = 0, width = 1;  // bin b covers [lo + b width, lo + (b + 1) width)
    QVector<double> counts;
    qint64 total = 0;
    double center(int b) const { return lo + (b + 0.5) * width; }
};

// The map quantities; the first four are TensorPlotData::planes, |error| and saturation are
// read from the error plane and the stored integers.
enum class MapQuantity { Reference, Dequantized, Error, ErrorLsb, AbsError, Saturation };
inline constexpr int kMapQuantities = 6;
inline constexpr int kMapPlanes = 4;
QString mapQuantityName(MapQuantity q, bool quantized);
bool mapQuantitySigned(MapQuantity q);

// A value made by `make` on the first get() (GUI thread only: the views ask for it when they
// draw). A default-constructed Lazy gives T{}.
template <class T>
class Lazy {
public:
    Lazy() = default;
    explicit Lazy(std::function<T()> make) : m_make(std::move(make)) {}
    const T& get() const {
        if (!m_value) {
            m_value = m_make ? m_make() : T{};
            m_make = nullptr;  // drop what it captured
        }
        return *m_value;
    }
    bool ready() const { return m_value.has_value(); }

private:
    mutable std::function<T()> m_make;
    mutable std::optional<T> m_value;
};

// Histograms: reference values against the quantization grid, and the error.
struct PlotHistograms {
    static constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
    PlotHistogram values;
    bool gridAligned = false;
    double gridStep = 0;                     // spacing of the grid (the scale), 0 without one
    double clipLow = kNaN, clipHigh = kNaN;  // values beyond these are clamped
    qint64 clippedLow = 0, clippedHigh = 0;
    PlotHistogram error;
};

// Density of (reference, dequantized) on an n x n grid over [lo, hi] on both axes.
struct PlotDensity {
    double lo = 0, hi = 1;
    int n = 0;
    std::vector<int32_t> counts;  // [y * n + x]
    int max = 0;
};

struct TensorPlotData {
    static constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

    QString tensorName;
    QString description;  // dtype, shape, quantization, in one line
    bool quantized = false;
    // Maps: `channels` maps of rows x cols (a 2-D tensor is one map of rows x features).
    int channels = 1, rows = 1, cols = 1;
    QString channelLabel, rowLabel, colLabel;
    // Index text of an element, e.g. "[0, 3, 7, 12]".
    std::function<QString(int channel, int row, int col)> coordinates;
    // The tensor's shape, for an element's full coordinates (coordinatesOf).
    QVector<int> shape;
    // Elements after the channel axis in the tensor's order (see index()).
    qint64 inner = 1;
    // In the tensor's element order, kept alive by `storage`; ranges over the tensor and per
    // map channel.
    std::array<std::span<const float>, kMapPlanes> planes;
    std::span<const int32_t> stored;  // stored integers (quantized tensors)
    std::shared_ptr<const void> storage;
    std::array<PlotRange, kMapQuantities> range;
    std::array<std::vector<PlotRange>, kMapQuantities> channelRange;
    qint64 qmin = 0, qmax = 0, atQmin = 0, atQmax = 0;
    double representableMin = kNaN, representableMax = kNaN;

    // Made when the histograms tab (or an export) first needs them.
    Lazy<PlotHistograms> histograms;
    QString errorUnit;  // "LSB", or empty for a float tensor (float units)
    // Made when the scatter first needs it.
    Lazy<PlotDensity> density;

    // Per channel (the metric channel axis): error metric and float vs representable range.
    QString metricName;
    QVector<double> channelMetric;
    QVector<double> channelFloatMin, channelFloatMax, channelReprMin, channelReprMax;
    // Weights of the producing op, per output channel (empty when it has none).
    QString weightsName;
    QVector<double> weightScale, weightZeroPoint, weightMin, weightMax;

    // Maps of another pair than float vs quantized (the profile difference map: profile A vs
    // B) name their quantities and describe an element themselves; empty / unset: the
    // float-vs-quantized names and hover text.
    std::array<QString, kMapQuantities> quantityNames;
    std::function<QString(qint64 index)> describeElement;
    QString quantityName(MapQuantity q) const {
        const QString& n = quantityNames[static_cast<size_t>(q)];
        return n.isEmpty() ? mapQuantityName(q, quantized) : n;
    }

    qint64 elements() const { return static_cast<qint64>(planes[0].size()); }
    // Row-major coordinates of element `index` in `shape` (empty without a shape).
    QVector<int> coordinatesOf(qint64 index) const {
        QVector<int> c(shape.size());
        for (qsizetype d = shape.size() - 1; d >= 0; --d) {
            const qint64 n = std::max(shape[d], 1);
            c[d] = static_cast<int>(index % n);
            index /= n;
        }
        return c;
    }
    // The tensor element of map cell (channel, row, col).
    qint64 index(int channel, int row, int col) const {
        const qint64 m = static_cast<qint64>(row) * cols + col;
        if (inner == 1) return m * channels + channel;
        return ((m / inner) * channels + channel) * inner + m % inner;
    }
    // The drawn value of element `i`: a plane, |error|, or -1/0/+1 at qmin/inside/qmax.
    double value(MapQuantity q, qint64 i) const {
        const auto u = static_cast<size_t>(i);
        switch (q) {
            case MapQuantity::AbsError:
                return std::fabs(static_cast<double>(planes[2][u]));
            case MapQuantity::Saturation:
                if (stored.empty()) return 0.0;
                return stored[u] == qmin ? -1.0 : (stored[u] == qmax ? 1.0 : 0.0);
            default:
                return static_cast<double>(planes[static_cast<size_t>(q)][u]);
        }
    }
};

}  // namespace qs::widgets
