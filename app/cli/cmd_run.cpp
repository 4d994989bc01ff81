// `quantscope-cli run MODEL [--input NAME|INDEX=FILE.npy]... [--seed N]
//      [--profile reference|single-rounding|xnnpack|builtin] [--plain] --dump DIR [--benchmark N]`
// Runs subgraph 0 with the engine and writes every non-constant tensor as DIR/t<index>.npy plus
// DIR/index.tsv. Inputs without a file get the seeded fill. --benchmark N prepares once and
// times N runs with the recorder on (--dump is then optional).
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "app/cli/args.h"
#include "app/cli/commands.h"
#include "app/cli/image_input.h"
#include "engine/analysis/float_twin.h"
#include "engine/executor.h"
#include "engine/input_fill.h"
#include "engine/io/npy.h"
#include "model/loader.h"
#include "model/str_format.h"

namespace qs::cli {

namespace {

namespace fs = std::filesystem;
using engine::TensorValue;
using model::DType;

const std::string kUsage =
    std::string("run MODEL [--input NAME|INDEX=FILE.npy|IMAGE]... ") + kPreprocessSynopsis +
    " [--seed N] "
    "[--profile reference|single-rounding|xnnpack|builtin] [--plain] [--engine int|float] --dump "
    "DIR "
    "[--benchmark N]";

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// A float32 file for a quantized integer input is quantized with the tensor's scale and zero
// point (round half away from zero, clamp), as TFLite's QUANTIZE does.
Result<TensorValue> quantizeFloatInput(const TensorValue& f, const model::Tensor& t) {
    TensorValue q(t.dtype, f.shape());
    const float scale = t.quantization.scale();
    const auto zp = static_cast<int32_t>(t.quantization.zeroPoint());
    auto src = f.data<float>();
    auto put = [&](auto* dst, int32_t lo, int32_t hi) {
        for (size_t i = 0; i < src.size(); ++i) {
            const int32_t v = static_cast<int32_t>(std::round(src[i] / scale)) + zp;
            dst[i] = static_cast<std::remove_pointer_t<decltype(dst)>>(std::clamp(v, lo, hi));
        }
    };
    switch (t.dtype) {
        case DType::Int8:
            put(q.data<int8_t>().data(), -128, 127);
            break;
        case DType::UInt8:
            put(q.data<uint8_t>().data(), 0, 255);
            break;
        case DType::Int16:
            put(q.data<int16_t>().data(), -32768, 32767);
            break;
        default:
            return fail("cannot quantize float32 data to " +
                        std::string(model::dtypeName(t.dtype)));
    }
    return q;
}

// keep_float: float32 files for quantized inputs stay float32 (the float engine takes them).
Result<std::vector<TensorValue>> buildInputs(const model::Model& m,
                                             const std::vector<std::string>& specs, uint64_t seed,
                                             bool keep_float = false,
                                             const engine::preprocess::Pipeline& pipeline = {}) {
    const auto& sg = m.main();
    std::vector<std::optional<TensorValue>> given(sg.inputs.size());
    for (const auto& spec : specs) {
        const auto eq = spec.find('=');
        if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
            return fail(strFormat("--input '{}' is not NAME=FILE or INDEX=FILE", spec));
        const std::string key = spec.substr(0, eq);
        const std::string file = spec.substr(eq + 1);
        std::optional<size_t> index;
        for (size_t i = 0; i < sg.inputs.size(); ++i)
            if (sg.tensor(sg.inputs[i]).name == key) index = i;
        if (!index) {
            if (auto n = parseInteger(key); n && static_cast<size_t>(*n) < sg.inputs.size())
                index = static_cast<size_t>(*n);
        }
        if (!index)
            return fail(strFormat("--input '{}': the model has no input named or numbered '{}'",
                                  spec, key));
        Result<TensorValue> v;
        if (isImagePath(file)) {
            // Images go through the --preprocess pipeline into the input's dtype.
            auto img = loadImageInput(m, *index, file, pipeline, keep_float);
            if (!img) return std::unexpected(img.error());
            std::printf("%s\n", img->summary.c_str());
            v = std::move(img->value);
        } else {
            v = engine::readNpy(file);
        }
        if (!v) return std::unexpected(v.error());
        const auto& t = sg.tensor(sg.inputs[*index]);
        if (v->shape() != t.shape)
            return fail(strFormat("{}: shape ({}) does not match input {} '{}' ({})", file,
                                  engine::shapeString(v->shape()), *index, t.name,
                                  engine::shapeString(t.shape)));
        if (v->dtype() != t.dtype && !(keep_float && v->dtype() == DType::Float32)) {
            if (v->dtype() == DType::Float32 && t.quantization.isQuantized() &&
                !t.quantization.isPerChannel()) {
                auto q = quantizeFloatInput(*v, t);
                if (!q) return std::unexpected(q.error());
                v = std::move(*q);
            } else {
                return fail(strFormat("{}: dtype {} does not match input {} '{}' ({})", file,
                                      lower(model::dtypeName(v->dtype())), *index, t.name,
                                      lower(model::dtypeName(t.dtype))));
            }
        }
        given[*index] = std::move(*v);
    }
    std::vector<TensorValue> out;
    for (size_t i = 0; i < sg.inputs.size(); ++i) {
        if (given[i]) {
            out.push_back(std::move(*given[i]));
            continue;
        }
        auto v = engine::seededFill(sg.tensor(sg.inputs[i]), seed, static_cast<int>(i));
        if (!v) return std::unexpected(v.error());
        out.push_back(std::move(*v));
    }
    return out;
}

Result<void> dump(const fs::path& dir, const model::Model& m, const engine::RunResult& r) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return fail(strFormat("{}: cannot create directory: {}", dir.string(), ec.message()));
    const auto& sg = m.main();
    std::string index = "tensor_index\tname\tdtype\tshape\n";
    for (size_t i = 0; i < sg.tensors.size(); ++i) {
        if (sg.tensors[i].isConstant()) continue;
        const auto& v = r.values[i];
        if (!v.valid()) continue;
        if (auto w = engine::writeNpy(dir / ("t" + std::to_string(i) + ".npy"), v); !w) return w;
        index += strFormat("{}\t{}\t{}\t{}\n", i, sg.tensors[i].name,
                           lower(model::dtypeName(v.dtype())), engine::shapeString(v.shape()));
    }
    return engine::writeFileAtomic(
        dir / "index.tsv", std::span(reinterpret_cast<const uint8_t*>(index.data()), index.size()));
}

}  // namespace

int cmdRun(std::span<const std::string> argv) {
    ArgSpec spec;
    spec.flags = {"--plain"};
    spec.valued = {"--input",     "--seed",   "--profile",   "--dump",
                   "--benchmark", "--engine", "--preprocess"};
    spec.repeatable = {"--input"};
    auto args = Args::parse(argv, spec);
    if (!args) return reportError(args.error(), kExitUsage);
    if (args->positional().size() != 1)
        return reportError(Error{strFormat("usage: quantscope-cli {}", kUsage)}, kExitUsage);

    uint64_t seed = 0;
    if (auto s = args->value("--seed")) {
        auto n = parseInteger(*s);
        if (!n)
            return reportError(Error{strFormat("--seed '{}' is not a non-negative integer", *s)},
                               kExitUsage);
        seed = static_cast<uint64_t>(*n);
    }
    engine::RoundingProfile profile = engine::RoundingProfile::Reference;
    if (auto p = args->value("--profile")) {
        auto parsed = engine::parseProfile(*p);
        if (!parsed)
            return reportError(
                Error{strFormat(
                    "--profile '{}' is not one of reference, single-rounding, xnnpack, builtin",
                    *p)},
                kExitUsage);
        profile = *parsed;
    }
    long long bench_runs = 0;
    if (auto b = args->value("--benchmark")) {
        auto n = parseInteger(*b);
        if (!n || *n < 1)
            return reportError(Error{strFormat("--benchmark '{}' is not a positive integer", *b)},
                               kExitUsage);
        bench_runs = *n;
    }
    const auto dump_dir = args->value("--dump");
    if (!dump_dir && bench_runs == 0)
        return reportError(
            Error{strFormat("--dump DIR is required (usage: quantscope-cli {})", kUsage)},
            kExitUsage);

    auto m = model::loadModel(args->positional()[0]);
    if (!m) return reportError(m.error(), kExitBadInput);
    // --engine float runs the model's float twin (engine/analysis/float_twin.h): same tensor
    // indices, every quantized tensor float32; integer input files are dequantized for it.
    const std::string engine_kind = args->value("--engine").value_or("int");
    if (engine_kind != "int" && engine_kind != "float")
        return reportError(Error{strFormat("--engine '{}' is not int or float", engine_kind)},
                           kExitUsage);
    std::optional<engine::analysis::FloatTwin> twin;
    auto pipeline = parsePreprocessOption(args->value("--preprocess"));
    if (!pipeline) return reportError(pipeline.error(), kExitUsage);
    auto inputs = buildInputs(*m, args->values("--input"), seed, engine_kind == "float", *pipeline);
    if (!inputs) return reportError(inputs.error(), kExitBadInput);
    if (engine_kind == "float") {
        auto t = engine::analysis::makeFloatTwin(*m);
        if (!t) return reportError(t.error(), kExitBadInput);
        twin = std::move(*t);
        for (const auto& n : twin->notes)
            std::fprintf(stderr, "warning: float twin: %s\n", n.c_str());
        const auto& sg = m->main();
        for (size_t i = 0; i < sg.inputs.size(); ++i) {
            const auto& orig = sg.tensor(sg.inputs[i]);
            auto v = engine::analysis::adaptInput(
                (*inputs)[i],
                (*inputs)[i].dtype() == orig.dtype ? orig.quantization : model::Quantization{},
                twin->model.main().tensor(sg.inputs[i]));
            if (!v) return reportError(v.error(), kExitBadInput);
            (*inputs)[i] = std::move(*v);
        }
    }
    const model::Model& run_model = twin ? twin->model : *m;

    auto prepared =
        engine::PreparedGraph::prepare(run_model, SubgraphId{0}, profile, args->has("--plain"));
    if (!prepared) return reportError(prepared.error(), kExitBadInput);
    engine::RunOptions options;
    options.profile = profile;
    options.plain = args->has("--plain");

    if (bench_runs > 0) {
        // The recorder stays on, as in an analysis run: it touches every produced tensor.
        size_t bytes_seen = 0;
        options.recorder = [&](OpId, TensorId, const TensorValue& v) {
            bytes_seen += v.byteSize();
        };
        std::vector<double> ms;
        for (long long i = 0; i < bench_runs; ++i) {
            const auto t0 = std::chrono::steady_clock::now();
            auto r = prepared->run(*inputs, options);
            const auto t1 = std::chrono::steady_clock::now();
            if (!r) return reportError(r.error(), kExitBadInput);
            ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
        }
        std::sort(ms.begin(), ms.end());
        const size_t n = ms.size();
        const double median = n % 2 ? ms[n / 2] : 0.5 * (ms[n / 2 - 1] + ms[n / 2]);
        std::printf(
            "median %.3f ms, min %.3f ms, max %.3f ms per inference (%zu runs, profile %s, %s "
            "path)\n",
            median, ms.front(), ms.back(), n, std::string(engine::profileName(profile)).c_str(),
            options.plain ? "plain" : "fast");
        options.recorder = nullptr;
    }

    auto r = prepared->run(*inputs, options);
    if (!r) return reportError(r.error(), kExitBadInput);
    for (const auto& w : r->warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
    if (dump_dir) {
        if (auto d = dump(*dump_dir, run_model, *r); !d)
            return reportError(d.error(), kExitBadInput);
        std::printf("%d of %d ops run (%s); tensors written to %s\n", r->ops_run, r->ops_total,
                    twin ? "float engine"
                         : ("profile " + std::string(engine::profileName(profile))).c_str(),
                    dump_dir->c_str());
    }
    return kExitOk;
}

}  // namespace qs::cli
