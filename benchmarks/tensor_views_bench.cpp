// What the tensor views compute when the user switches to a tensor (engine/analysis/
// tensor_views.h), on a synthetic 1.2 M element activation shaped like mobilenet_v2's largest,
// [1, 112, 112, 96] int8 after ReLU6 (a third of it zeros, some at qmax):
//   BM_TensorPlanes/reuse:0|1   the planes and per-channel ranges, fresh buffers or refilled;
//   BM_ValueHistogram           the float values against the quantization grid (histograms tab);
//   BM_ErrorHistogram           the error in LSB (histograms tab);
//   BM_Density                  float vs dequantized on a 200 x 200 grid (scatter tab).
// The whole switch, views included, is timed by `quantscope MODEL --bench-views N`.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "engine/analysis/tensor_views.h"

namespace {

using namespace qs;
using namespace qs::engine;
using namespace qs::engine::analysis;

struct Activation {
    TensorValue quant{model::DType::Int8, {1, 112, 112, 96}};
    TensorValue reference{model::DType::Float32, {1, 112, 112, 96}};
    model::Quantization q;

    Activation() {
        q.scales = {6.f / 255.f};
        q.zero_points = {-128};
        std::mt19937 rng(1);
        std::normal_distribution<float> value(0.5f, 2.f);
        std::normal_distribution<float> noise(0.f, 0.01f);
        auto qv = quant.data<int8_t>();
        auto rv = reference.data<float>();
        for (size_t i = 0; i < qv.size(); ++i) {
            const float f = std::clamp(value(rng), 0.f, 6.f);
            const long level = std::lround(f / q.scales[0]) - 128;
            qv[i] = static_cast<int8_t>(std::clamp(level, -128L, 127L));
            rv[i] = f + noise(rng);
        }
    }
};

const Activation& activation() {
    static const Activation a;
    return a;
}

void BM_TensorPlanes(benchmark::State& state) {
    const Activation& a = activation();
    const bool reuse = state.range(0) != 0;
    TensorPlanes previous;
    for (auto _ : state) {
        auto p =
            tensorPlanes(a.quant, a.q, a.reference, reuse ? std::move(previous) : TensorPlanes{});
        if (!p) state.SkipWithError(p.error().message.c_str());
        benchmark::DoNotOptimize(p->range);
        if (reuse) previous = std::move(*p);
    }
    state.SetItemsProcessed(state.iterations() * a.quant.numElements());
}
BENCHMARK(BM_TensorPlanes)->ArgName("reuse")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

template <class F>
void withPlanes(benchmark::State& state, F f) {
    const Activation& a = activation();
    auto p = tensorPlanes(a.quant, a.q, a.reference);
    if (!p) {
        state.SkipWithError(p.error().message.c_str());
        return;
    }
    for (auto _ : state) f(*p);
    state.SetItemsProcessed(state.iterations() * a.quant.numElements());
}

void BM_ValueHistogram(benchmark::State& state) {
    withPlanes(state, [](const TensorPlanes& p) {
        auto h = valueHistogram(p);
        benchmark::DoNotOptimize(h.histogram.counts.data());
    });
}
BENCHMARK(BM_ValueHistogram)->Unit(benchmark::kMillisecond);

void BM_ErrorHistogram(benchmark::State& state) {
    withPlanes(state, [](const TensorPlanes& p) {
        auto h = errorHistogram(p);
        benchmark::DoNotOptimize(h.counts.data());
    });
}
BENCHMARK(BM_ErrorHistogram)->Unit(benchmark::kMillisecond);

void BM_Density(benchmark::State& state) {
    withPlanes(state, [](const TensorPlanes& p) {
        auto d = referenceVsDequantized(p);
        benchmark::DoNotOptimize(d.counts.data());
    });
}
BENCHMARK(BM_Density)->Unit(benchmark::kMillisecond);

}  // namespace
