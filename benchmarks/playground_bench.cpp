// Quantization playground: what one drag step costs (evaluate + histogram of 100000 values, the
// controller's default), and the MSE-optimal search behind its button.
#include <benchmark/benchmark.h>

#include "engine/playground/quant_playground.h"

namespace pg = qs::engine::playground;

static void BM_PlaygroundDragStep(benchmark::State& state) {
    const auto values = pg::sampleDistribution(pg::Distribution::Normal, state.range(0), 0);
    const auto grid = *pg::gridForRange(-4, 4, qs::model::DType::Int8, false);
    for (auto _ : state) {
        auto e = pg::evaluate(values, {}, -1, std::span(&grid, 1));
        auto h = pg::histogramOver(values, grid, -4.2, 4.2);
        benchmark::DoNotOptimize(e);
        benchmark::DoNotOptimize(h);
    }
}
BENCHMARK(BM_PlaygroundDragStep)->Arg(100000)->Unit(benchmark::kMillisecond);

static void BM_PlaygroundMseOptimal(benchmark::State& state) {
    const auto values = pg::sampleDistribution(pg::Distribution::NormalWithOutliers, 100000, 0);
    for (auto _ : state) {
        auto g = pg::calibrate(values, pg::Calibration::MseOptimal, qs::model::DType::Int8, true);
        benchmark::DoNotOptimize(g);
    }
}
BENCHMARK(BM_PlaygroundMseOptimal)->Unit(benchmark::kMillisecond);
