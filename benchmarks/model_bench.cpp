// Model loading time: the largest conformance model, and a synthetic ~200 MB model whose
// constant data must be memory-mapped, never read, so opening it stays far below a second.
#include <benchmark/benchmark.h>

#include <unistd.h>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "model/loader.h"
#include "model/schema/tflite_generated.h"

namespace {

namespace fs = std::filesystem;
namespace fb = qs::fb;

void BM_LoadMobilenetV2Quantized(benchmark::State& state) {
    const fs::path path =
        fs::path(QS_CONFORMANCE_DIR) / "mobilenet_v2_quantized_1x3x224x224" / "model.tflite";
    for (auto _ : state) {
        auto m = qs::model::loadModel(path);
        if (!m) {
            state.SkipWithError(m.error().message.c_str());
            return;
        }
        benchmark::DoNotOptimize(m->subgraphs.data());
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                            static_cast<int64_t>(fs::file_size(path)));
}
BENCHMARK(BM_LoadMobilenetV2Quantized)->Unit(benchmark::kMillisecond);

// A FULLY_CONNECTED with a [12800, 4096] float32 weight (200 MiB) stored inside the FlatBuffer.
fs::path writeBigModel() {
    const fs::path path =
        fs::temp_directory_path() / ("qs_bench_big_" + std::to_string(::getpid()) + ".tflite");
    constexpr int32_t kOut = 12800, kIn = 4096;
    flatbuffers::FlatBufferBuilder b(size_t{kOut} * kIn * 4 + (1 << 20));
    uint8_t* weights = nullptr;
    b.ForceVectorAlignment(size_t{kOut} * kIn * 4, 1, 16);  // Buffer.data is force_align 16
    auto data = b.CreateUninitializedVector(size_t{kOut} * kIn * 4, 1, &weights);
    for (size_t i = 0; i < size_t{kOut} * kIn * 4; i += 4096) weights[i] = static_cast<uint8_t>(i);
    std::vector<flatbuffers::Offset<fb::Buffer>> buffers{fb::CreateBuffer(b),
                                                         fb::CreateBuffer(b, data)};
    std::vector<int32_t> inShape{1, kIn}, wShape{kOut, kIn}, outShape{1, kOut};
    std::vector<flatbuffers::Offset<fb::Tensor>> tensors{
        fb::CreateTensorDirect(b, &inShape, fb::TensorType::FLOAT32, 0, "input"),
        fb::CreateTensorDirect(b, &wShape, fb::TensorType::FLOAT32, 1, "weights"),
        fb::CreateTensorDirect(b, &outShape, fb::TensorType::FLOAT32, 0, "output")};
    std::vector<int32_t> opIn{0, 1, -1}, opOut{2}, sgIn{0}, sgOut{2};
    std::vector<flatbuffers::Offset<fb::Operator>> ops{
        fb::CreateOperatorDirect(b, 0, &opIn, &opOut)};
    std::vector<flatbuffers::Offset<fb::SubGraph>> subgraphs{
        fb::CreateSubGraphDirect(b, &tensors, &sgIn, &sgOut, &ops, "main")};
    std::vector<flatbuffers::Offset<fb::OperatorCode>> codes{
        fb::CreateOperatorCode(b, 9, 0, 1, fb::BuiltinOperator::FULLY_CONNECTED)};
    auto model = fb::CreateModelDirect(b, 3, &codes, &subgraphs, "big", &buffers);
    fb::FinishModelBuffer(b, model);
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(b.GetBufferPointer()),
               static_cast<std::streamsize>(b.GetSize()));
    return path;
}

struct BigModelFile {
    fs::path path = writeBigModel();
    ~BigModelFile() {
        std::error_code ec;
        fs::remove(path, ec);
    }
};

void BM_LoadSynthetic200MB(benchmark::State& state) {
    static const BigModelFile file;
    const fs::path& path = file.path;
    for (auto _ : state) {
        auto m = qs::model::loadModel(path);
        if (!m) {
            state.SkipWithError(m.error().message.c_str());
            return;
        }
        benchmark::DoNotOptimize(m->main().tensors[1].data.data());
    }
    state.counters["file_MB"] = static_cast<double>(fs::file_size(path)) / 1e6;
}
BENCHMARK(BM_LoadSynthetic200MB)->Unit(benchmark::kMillisecond)->Iterations(20);

}  // namespace
