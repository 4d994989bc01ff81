// What the tensor views draw of one compared tensor: its values rearranged as per-channel
// maps, the error in float and in LSB, saturation, histograms against the quantization grid
// and a float-vs-dequantized density. Computed here so the widgets only draw.
//
//   auto planes = tensorPlanes(quantValue, tensor.quantization, referenceValue);
//   auto h = valueHistogram(*planes);
//
// Map layout: one rows x cols map per channel of `channelAxis()` (metrics.h) for tensors of
// rank 3 and more (the dims before the channel and after it: the last remaining dim is the
// columns, the others, batch included, stacked as rows); tensors of rank 1 and 2 are one map
// of rows x features.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <new>
#include <span>
#include <utility>
#include <vector>

#include "engine/tensor_value.h"
#include "model/error.h"
#include "model/model.h"

namespace qs::engine::analysis {

struct MapLayout {
    int channel_axis = -1;  // the tensor's axis the maps are taken along; -1: one map
    int channels = 1;
    int rows = 1, cols = 1;
    int row_axis = -1, col_axis = -1;  // the tensor axes of rows (the innermost one) and columns
    // Elements after the channel axis: a map position m sits at tensor index
    // ((m / inner) * channels + channel) * inner + m % inner.
    int64_t inner = 1;
    int64_t mapSize() const { return static_cast<int64_t>(rows) * cols; }
    int64_t index(int channel, int row, int col) const {
        const int64_t m = static_cast<int64_t>(row) * cols + col;
        if (inner == 1) return m * channels + channel;
        return ((m / inner) * channels + channel) * inner + m % inner;
    }
};
MapLayout mapLayout(std::span<const int32_t> shape, int channel_axis);

struct ValueRange {
    float min = 0, max = 0;
    bool valid() const { return min <= max; }
};

// An allocator whose resize() leaves new elements uninitialised: a plane is written in full
// right after it is sized, so zero-filling a million elements first only costs time.
template <class T>
struct UninitializedAllocator : std::allocator<T> {
    using value_type = T;
    UninitializedAllocator() = default;
    template <class U>
    UninitializedAllocator(const UninitializedAllocator<U>&) noexcept {}
    template <class U>
    struct rebind {
        using other = UninitializedAllocator<U>;
    };
    template <class U>
    void construct(U* p) noexcept {
        ::new (static_cast<void*>(p)) U;
    }
    template <class U, class... Args>
    void construct(U* p, Args&&... args) {
        ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
    }
};
template <class T>
using PlaneVector = std::vector<T, UninitializedAllocator<T>>;

// The quantities drawn as maps. The first four are stored as planes; |error| and saturation
// are read from the error plane and the stored integers.
enum class Quantity { Reference, Dequantized, Error, ErrorLsb, AbsError, Saturation };
inline constexpr int kQuantities = 6;
inline constexpr int kPlanes = 4;

struct TensorPlanes {
    MapLayout layout;
    bool quantized = false;  // stored integers, LSB error and saturation exist
    model::DType dtype = model::DType::Float32;
    int64_t qmin = 0, qmax = 0;  // the dtype's integer range
    // Per quantization channel (one entry for per-tensor parameters).
    std::vector<float> scales;
    std::vector<int64_t> zero_points;
    // Float range the stored integers can express: [(qmin - zp) s, (qmax - zp) s] over channels.
    double representable_min = 0, representable_max = 0;
    // In the tensor's own element order (a transpose would cost more than it saves: a map
    // reads its channel through layout.index()). Error = dequantized - reference (metrics.h);
    // ErrorLsb = error / the element's scale (the error itself for float tensors).
    std::array<PlaneVector<float>, kPlanes> planes;
    PlaneVector<int32_t> stored;  // the stored integers (quantized only)
    // Over the tensor and per map channel. |error|: [0, max |error|]; saturation: [-1, 1]
    // (-1 = at qmin, +1 = at qmax).
    std::array<ValueRange, kQuantities> range;
    std::array<std::vector<ValueRange>, kQuantities> channel_range;
    int64_t at_qmin = 0, at_qmax = 0;

    int64_t size() const { return static_cast<int64_t>(planes[0].size()); }
    std::span<const float> plane(Quantity q) const { return planes[static_cast<size_t>(q)]; }
    int64_t index(int channel, int row, int col) const { return layout.index(channel, row, col); }
};

// `quant`: the engine's tensor (quantized integer with `q`, or float); `reference`: float32,
// same element count. Fails on other dtypes or a size mismatch. `reuse`: an earlier result
// whose buffers are refilled (switching between large tensors then touches no fresh memory).
// One pass over the tensor fills the planes and the ranges together.
Result<TensorPlanes> tensorPlanes(const TensorValue& quant, const model::Quantization& q,
                                  const TensorValue& reference, TensorPlanes reuse = {});

// The tensor coordinates (one index per axis) of map cell (channel, row, col).
std::vector<int32_t> tensorCoordinates(std::span<const int32_t> shape, const MapLayout& layout,
                                       int channel, int row, int col);

struct Histogram {
    double lo = 0, width = 1;  // bin b covers [lo + b width, lo + (b + 1) width)
    std::vector<int64_t> counts;
    int64_t total = 0;  // sum of counts (NaN values are not counted)
    double binCenter(size_t b) const { return lo + (static_cast<double>(b) + 0.5) * width; }
};

// Values in `bins` equal bins over [lo, hi]; values outside fall in the end bins.
Histogram histogram(std::span<const float> values, double lo, double hi, int bins);

// The reference values against the quantization grid. Per-tensor parameters with at most
// `max_levels` integer levels over the data: one bin per integer level, centred on the level's
// float value (q - zp) s and continued at the same width beyond the representable range;
// otherwise `fallback_bins` bins over the data and the representable range.
struct GridHistogram {
    Histogram histogram;
    bool grid_aligned = false;
    double step = 0;  // the scale (grid spacing) when quantized
    double representable_min = 0, representable_max = 0;
    // Values the quantizer clamps: below (qmin - zp - 1/2) s or above (qmax - zp + 1/2) s.
    double clip_low = 0, clip_high = 0;
    int64_t clipped_low = 0, clipped_high = 0;
};
GridHistogram valueHistogram(const TensorPlanes& planes, int max_levels = 512,
                             int fallback_bins = 200);

// The error in LSB, bins of a "nice" width (1/8, 1/4, 1/2, 1, 2, 5 ... LSB) centred on its
// multiples, at most about `max_bins` bins. Float tensors: the error in float units.
Histogram errorHistogram(const TensorPlanes& planes, int max_bins = 160);

// Counts of (reference, dequantized) pairs on an n x n grid over one common range, so the
// identity is the diagonal. counts[y * n + x]: x the reference, y the dequantized value.
struct Density2D {
    double lo = 0, hi = 1;
    int n = 0;
    std::vector<int32_t> counts;
    int32_t max_count = 0;
};
Density2D referenceVsDequantized(const TensorPlanes& planes, int n = 200);

}  // namespace qs::engine::analysis
