// Engine speed: mobilenet_v2_quantized_1x3x224x224 end to end, plain reference loops vs the
// fast paths, for every rounding profile, with a recorder that sees every tensor (what the GUI
// does). The graph is prepared once per benchmark; each iteration is one full run on the
// conformance input. Compare BM_MobilenetV2/<profile>_plain with <profile>_fast; the report's
// "ops" counter is the number of ops run.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <optional>

#include "engine/executor.h"
#include "engine/io/npy.h"
#include "model/loader.h"

namespace {

namespace fs = std::filesystem;
using namespace qs;
using namespace qs::engine;

struct Loaded {
    model::Model model;
    std::vector<TensorValue> inputs;
};

// Loaded once for all benchmarks (the model's constants are memory-mapped).
const Loaded* mobilenetV2() {
    static const std::optional<Loaded> loaded = []() -> std::optional<Loaded> {
        const fs::path dir = fs::path(QS_CONFORMANCE_DIR) / "mobilenet_v2_quantized_1x3x224x224";
        auto m = model::loadModel(dir / "model.tflite");
        if (!m) return std::nullopt;
        auto in = readNpy(dir / "inputs" / "input_0.npy");
        if (!in) return std::nullopt;
        Loaded l{std::move(*m), {}};
        l.inputs.push_back(std::move(*in));
        return l;
    }();
    return loaded ? &*loaded : nullptr;
}

void BM_MobilenetV2(benchmark::State& state, RoundingProfile profile, bool plain) {
    const Loaded* l = mobilenetV2();
    if (!l) {
        state.SkipWithError(
            "cannot load mobilenet_v2_quantized_1x3x224x224 from QS_CONFORMANCE_DIR");
        return;
    }
    auto graph = PreparedGraph::prepare(l->model, SubgraphId{0}, profile, plain);
    if (!graph) {
        state.SkipWithError(graph.error().message.c_str());
        return;
    }
    RunOptions options;
    int64_t recorded_bytes = 0;
    options.recorder = [&](OpId, TensorId, const TensorValue& v) {
        recorded_bytes += static_cast<int64_t>(v.bytes().size());
    };
    int ops = 0;
    for (auto _ : state) {
        auto r = graph->run(l->inputs, options);
        if (!r || !r->complete()) {
            state.SkipWithError("run failed or stopped");
            return;
        }
        ops = r->ops_run;
        benchmark::DoNotOptimize(r->values.data());
    }
    state.counters["ops"] = ops;
    state.counters["recorded_MB"] =
        static_cast<double>(recorded_bytes) / static_cast<double>(state.iterations()) / 1e6;
}

// Plain loops are slow (~0.5 s a run); a few iterations give a stable median.
BENCHMARK_CAPTURE(BM_MobilenetV2, reference_plain, RoundingProfile::Reference, true)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);
BENCHMARK_CAPTURE(BM_MobilenetV2, reference_fast, RoundingProfile::Reference, false)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_MobilenetV2, single_rounding_plain, RoundingProfile::SingleRounding, true)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);
BENCHMARK_CAPTURE(BM_MobilenetV2, single_rounding_fast, RoundingProfile::SingleRounding, false)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_MobilenetV2, xnnpack_plain, RoundingProfile::Xnnpack, true)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);
BENCHMARK_CAPTURE(BM_MobilenetV2, xnnpack_fast, RoundingProfile::Xnnpack, false)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_MobilenetV2, builtin_plain, RoundingProfile::Builtin, true)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);
BENCHMARK_CAPTURE(BM_MobilenetV2, builtin_fast, RoundingProfile::Builtin, false)
    ->Unit(benchmark::kMillisecond);

}  // namespace
