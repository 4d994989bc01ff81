// Error analysis speed on mobilenet_v2_quantized_1x3x224x224 (conformance input):
//   BM_AnalysisIntEngineOnly   load the model, prepare and run the int8 engine once (every
//                              tensor kept): the baseline;
//   BM_AnalysisFull/<mode>/<threads>  load the model, build the float twin, run both engines,
//                              every metric of every tensor (per tensor and per channel,
//                              averaged and pooled) and the weight statistics: what
//                              `quantscope-cli report` computes before writing files; threads 2
//                              runs the two engines at once (AnalysisOptions::threads);
//   BM_AnalysisFloatTwinOnly   the float twin's run alone, to show where the time goes;
//   BM_AnalysisVsIntEngine/<threads>  the target as one number: each iteration times
//                              the baseline and then the full accumulated analysis, back to
//                              back, so a machine that speeds up or slows down between
//                              benchmarks does not skew the "ratio" counter (full / baseline,
//                              wall clock); its iteration time is the full analysis's.
// The "peak_rss_mb" counter is the process's peak resident set size after the benchmark
// (getrusage ru_maxrss), which includes everything run before it in the same process.
// Times are wall clock (UseRealTime); the CPU time column is the whole process's
// (MeasureProcessCPUTime), so it includes the second thread.
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <chrono>
#include <filesystem>

#include "engine/analysis/error_analysis.h"
#include "engine/analysis/float_twin.h"
#include "engine/executor.h"
#include "engine/io/npy.h"
#include "model/loader.h"

namespace {

namespace fs = std::filesystem;
using namespace qs;
using namespace qs::engine;

const fs::path kDir = fs::path(QS_CONFORMANCE_DIR) / "mobilenet_v2_quantized_1x3x224x224";

double peakRssMb() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

std::vector<TensorValue> input(benchmark::State& state) {
    auto in = readNpy(kDir / "inputs" / "input_0.npy");
    if (!in) {
        state.SkipWithError(in.error().message.c_str());
        return {};
    }
    std::vector<TensorValue> v;
    v.push_back(std::move(*in));
    return v;
}

void BM_AnalysisIntEngineOnly(benchmark::State& state) {
    const auto inputs = input(state);
    for (auto _ : state) {
        auto m = model::loadModel(kDir / "model.tflite");
        if (!m) return state.SkipWithError(m.error().message.c_str());
        auto r = run(*m, SubgraphId{0}, inputs, {});
        if (!r || !r->complete()) return state.SkipWithError("int8 run failed");
        benchmark::DoNotOptimize(r->values.data());
    }
    state.counters["peak_rss_mb"] = peakRssMb();
}
BENCHMARK(BM_AnalysisIntEngineOnly)
    ->Unit(benchmark::kMillisecond)
    ->MinTime(2.0)
    ->UseRealTime()
    ->MeasureProcessCPUTime();

void BM_AnalysisFloatTwinOnly(benchmark::State& state) {
    const auto inputs = input(state);
    auto m = model::loadModel(kDir / "model.tflite");
    if (!m) return state.SkipWithError(m.error().message.c_str());
    auto twin = analysis::makeFloatTwin(*m);
    if (!twin) return state.SkipWithError(twin.error().message.c_str());
    auto f =
        analysis::dequantizeValue(inputs[0], m->main().tensor(m->main().inputs[0]).quantization);
    if (!f) return state.SkipWithError(f.error().message.c_str());
    std::vector<TensorValue> fin;
    fin.push_back(std::move(*f));
    for (auto _ : state) {
        auto r = run(twin->model, SubgraphId{0}, fin, {});
        if (!r || !r->complete()) return state.SkipWithError("float twin run failed");
        benchmark::DoNotOptimize(r->values.data());
    }
    state.counters["peak_rss_mb"] = peakRssMb();
}
BENCHMARK(BM_AnalysisFloatTwinOnly)->Unit(benchmark::kMillisecond)->MinTime(2.0);

void BM_AnalysisFull(benchmark::State& state) {
    const auto inputs = input(state);
    analysis::AnalysisOptions options;
    options.mode = state.range(0) ? analysis::ErrorMode::Local : analysis::ErrorMode::Accumulated;
    options.threads = static_cast<int>(state.range(1));
    size_t tensors = 0;
    for (auto _ : state) {
        auto m = model::loadModel(kDir / "model.tflite");
        if (!m) return state.SkipWithError(m.error().message.c_str());
        auto a = analysis::analyze(
            *m, nullptr, 1, [&](int) -> Result<std::vector<TensorValue>> { return inputs; },
            options);
        if (!a) return state.SkipWithError(a.error().message.c_str());
        tensors = a->tensors.size();
        benchmark::DoNotOptimize(a->tensors.data());
    }
    state.counters["tensors"] = static_cast<double>(tensors);
    state.counters["peak_rss_mb"] = peakRssMb();
}
BENCHMARK(BM_AnalysisFull)
    ->ArgsProduct({{0, 1}, {1, 2}})
    ->ArgNames({"local", "threads"})
    ->Unit(benchmark::kMillisecond)
    ->MinTime(2.0)
    ->UseRealTime()
    ->MeasureProcessCPUTime();

void BM_AnalysisVsIntEngine(benchmark::State& state) {
    const auto inputs = input(state);
    analysis::AnalysisOptions options;
    options.threads = static_cast<int>(state.range(0));
    using Clock = std::chrono::steady_clock;
    double baseline = 0, full = 0;
    for (auto _ : state) {
        const auto t0 = Clock::now();
        {
            auto m = model::loadModel(kDir / "model.tflite");
            if (!m) return state.SkipWithError(m.error().message.c_str());
            auto r = run(*m, SubgraphId{0}, inputs, {});
            if (!r || !r->complete()) return state.SkipWithError("int8 run failed");
            benchmark::DoNotOptimize(r->values.data());
        }
        const auto t1 = Clock::now();
        {
            auto m = model::loadModel(kDir / "model.tflite");
            if (!m) return state.SkipWithError(m.error().message.c_str());
            auto a = analysis::analyze(
                *m, nullptr, 1, [&](int) -> Result<std::vector<TensorValue>> { return inputs; },
                options);
            if (!a) return state.SkipWithError(a.error().message.c_str());
            benchmark::DoNotOptimize(a->tensors.data());
        }
        const auto t2 = Clock::now();
        const double b = std::chrono::duration<double>(t1 - t0).count();
        const double f = std::chrono::duration<double>(t2 - t1).count();
        baseline += b;
        full += f;
        state.SetIterationTime(f);
    }
    const auto n = static_cast<double>(state.iterations());
    state.counters["int8_ms"] = 1e3 * baseline / n;
    state.counters["full_ms"] = 1e3 * full / n;
    state.counters["ratio"] = full / baseline;
}
BENCHMARK(BM_AnalysisVsIntEngine)
    ->Arg(1)
    ->Arg(2)
    ->ArgName("threads")
    ->Unit(benchmark::kMillisecond)
    ->MinTime(2.0)
    ->UseManualTime();

}  // namespace
