// `quantscope-cli report MODEL [--float FLOAT.tflite] [--input NAME|INDEX=FILE.npy]... |
//      [--inputs DIR] [--seed N] [--mode accumulated|local] [--profile ...] [--metric NAME]
//      --csv OUT [--per-channel-csv OUT] [--json OUT] [--model-explorer OUT]`
// Quantization error of every tensor against the float reference (the model's float twin, or
// the paired --float model); see engine/analysis/error_analysis.h for the modes and
// engine/analysis/report.h for the file formats.
// Samples: --input files give one sample (inputs without a file get the seeded fill); --inputs
// DIR gives a dataset: for a single-input model every DIR/*.npy is one sample; otherwise every
// subdirectory of DIR is one sample holding input_<i>.npy (or <input name>.npy) per input; a
// DIR that itself holds input_<i>.npy for every input is one sample.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "app/cli/args.h"
#include "app/cli/commands.h"
#include "app/cli/image_input.h"
#include "engine/analysis/error_analysis.h"
#include "engine/analysis/report.h"
#include "engine/executor.h"
#include "engine/input_fill.h"
#include "engine/io/npy.h"
#include "model/loader.h"
#include "model/str_format.h"

namespace qs::cli {

namespace {

namespace fs = std::filesystem;
using engine::TensorValue;
namespace an = engine::analysis;

const std::string kUsage =
    std::string("report MODEL [--float FLOAT.tflite] [--input NAME|INDEX=FILE.npy|IMAGE]... | ") +
    "[--inputs DIR] " + kPreprocessSynopsis +
    " [--seed N] [--mode accumulated|local] [--profile reference|single-rounding|xnnpack|builtin] "
    "[--metric NAME] --csv OUT [--per-channel-csv OUT] [--json OUT] [--model-explorer OUT]";

// One sample: a file (or nothing: seeded fill) per model input.
struct SampleFiles {
    std::string name;
    std::vector<std::optional<fs::path>> files;
};

Result<std::optional<size_t>> inputIndex(const model::Subgraph& sg, const std::string& key) {
    for (size_t i = 0; i < sg.inputs.size(); ++i)
        if (sg.tensor(sg.inputs[i]).name == key) return i;
    if (auto n = parseInteger(key); n && static_cast<size_t>(*n) < sg.inputs.size())
        return static_cast<size_t>(*n);
    return std::optional<size_t>{};
}

Result<SampleFiles> sampleFromSpecs(const model::Subgraph& sg,
                                    const std::vector<std::string>& specs) {
    SampleFiles s;
    s.name = specs.empty() ? "seeded" : "given";
    s.files.resize(sg.inputs.size());
    for (const auto& spec : specs) {
        const auto eq = spec.find('=');
        if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
            return fail(strFormat("--input '{}' is not NAME=FILE or INDEX=FILE", spec));
        auto idx = inputIndex(sg, spec.substr(0, eq));
        if (!*idx)
            return fail(strFormat("--input '{}': the model has no input named or numbered '{}'",
                                  spec, spec.substr(0, eq)));
        s.files[**idx] = fs::path(spec.substr(eq + 1));
    }
    return s;
}

// input_<i>.npy or <input name>.npy in `dir` for every input, or an error naming the first gap.
Result<SampleFiles> sampleFromDir(const model::Subgraph& sg, const fs::path& dir) {
    SampleFiles s;
    s.name = dir.filename().string();
    for (size_t i = 0; i < sg.inputs.size(); ++i) {
        const fs::path a = dir / ("input_" + std::to_string(i) + ".npy");
        const fs::path b = dir / (sg.tensor(sg.inputs[i]).name + ".npy");
        std::error_code ec;
        if (fs::is_regular_file(a, ec))
            s.files.emplace_back(a);
        else if (fs::is_regular_file(b, ec))
            s.files.emplace_back(b);
        else
            return fail(strFormat("{}: no input_{}.npy for input {} '{}'", dir.string(), i, i,
                                  sg.tensor(sg.inputs[i]).name));
    }
    return s;
}

Result<std::vector<SampleFiles>> datasetSamples(const model::Subgraph& sg, const fs::path& dir) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return fail(strFormat("{}: not a directory", dir.string()));
    std::vector<fs::path> files, dirs;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
        if (e.is_directory())
            dirs.push_back(e.path());
        else if (e.path().extension() == ".npy" || isImagePath(e.path()))
            files.push_back(e.path());
    }
    if (ec) return fail(strFormat("{}: {}", dir.string(), ec.message()));
    std::sort(files.begin(), files.end());
    std::sort(dirs.begin(), dirs.end());
    std::vector<SampleFiles> out;
    if (sg.inputs.size() > 1 || files.empty()) {
        if (auto one = sampleFromDir(sg, dir); one && dirs.empty()) {
            out.push_back(std::move(*one));
            return out;
        }
        for (const auto& d : dirs) {
            auto s = sampleFromDir(sg, d);
            if (!s) return std::unexpected(s.error());
            out.push_back(std::move(*s));
        }
    } else {
        for (const auto& f : files) {
            SampleFiles s;
            s.name = f.filename().string();
            s.files.emplace_back(f);
            out.push_back(std::move(s));
        }
    }
    if (out.empty())
        return fail(strFormat("{}: no input samples (.npy files) found", dir.string()));
    return out;
}

Result<std::vector<TensorValue>> loadSample(const model::Model& m, const SampleFiles& s,
                                            uint64_t seed,
                                            const engine::preprocess::Pipeline& pipeline) {
    const auto& sg = m.main();
    std::vector<TensorValue> out;
    for (size_t i = 0; i < sg.inputs.size(); ++i) {
        const auto& t = sg.tensor(sg.inputs[i]);
        if (!s.files[i]) {
            auto v = engine::seededFill(t, seed, static_cast<int>(i));
            if (!v) return std::unexpected(v.error());
            out.push_back(std::move(*v));
            continue;
        }
        Result<TensorValue> v;
        if (isImagePath(*s.files[i])) {
            // Images go through the --preprocess pipeline into the input's dtype.
            auto img = loadImageInput(m, i, *s.files[i], pipeline);
            if (!img) return std::unexpected(img.error());
            std::fprintf(stderr, "%s\n", img->summary.c_str());
            v = std::move(img->value);
        } else {
            v = engine::readNpy(*s.files[i]);
        }
        if (!v) return std::unexpected(v.error());
        if (v->numElements() != t.numElements())
            return fail(strFormat("{}: shape ({}) does not match input {} '{}' ({})",
                                  s.files[i]->string(), engine::shapeString(v->shape()), i, t.name,
                                  engine::shapeString(t.shape)));
        if (v->shape() != t.shape) v->reshape(t.shape);
        out.push_back(std::move(*v));
    }
    return out;
}

}  // namespace

int cmdReport(std::span<const std::string> argv) {
    ArgSpec spec;
    spec.valued = {
        "--float",  "--input", "--inputs",          "--seed", "--mode",           "--profile",
        "--metric", "--csv",   "--per-channel-csv", "--json", "--model-explorer", "--preprocess"};
    spec.repeatable = {"--input"};
    auto args = Args::parse(argv, spec);
    if (!args) return reportError(args.error(), kExitUsage);
    auto usage = [](const std::string& why) {
        return reportError(Error{strFormat("{} (usage: quantscope-cli {})", why, kUsage)},
                           kExitUsage);
    };
    if (args->positional().size() != 1) return usage("one MODEL is required");
    const auto csv = args->value("--csv");
    if (!csv) return usage("--csv OUT is required");
    if (args->has("--input") && args->has("--inputs"))
        return usage("--input and --inputs cannot be combined");
    an::AnalysisOptions options;
    if (auto m = args->value("--mode")) {
        if (*m == "accumulated")
            options.mode = an::ErrorMode::Accumulated;
        else if (*m == "local")
            options.mode = an::ErrorMode::Local;
        else
            return usage(strFormat("--mode '{}' is not accumulated or local", *m));
    }
    if (auto p = args->value("--profile")) {
        auto parsed = engine::parseProfile(*p);
        if (!parsed)
            return usage(strFormat(
                "--profile '{}' is not one of reference, single-rounding, xnnpack, builtin", *p));
        options.profile = *parsed;
    }
    const std::string metric = args->value("--metric").value_or("sqnr_db");
    if (!an::findMetric(metric)) {
        std::string names;
        for (const auto& d : an::kMetrics)
            names += (names.empty() ? "" : ", ") + std::string(d.name);
        return usage(strFormat("--metric '{}' is not one of {}", metric, names));
    }
    uint64_t seed = 0;
    if (auto s = args->value("--seed")) {
        auto n = parseInteger(*s);
        if (!n) return usage(strFormat("--seed '{}' is not a non-negative integer", *s));
        seed = static_cast<uint64_t>(*n);
    }

    auto pipeline = parsePreprocessOption(args->value("--preprocess"));
    if (!pipeline) return usage(pipeline.error().message);

    const std::string model_path = args->positional()[0];
    auto m = model::loadModel(model_path);
    if (!m) return reportError(m.error(), kExitBadInput);
    std::optional<model::Model> float_model;
    if (auto f = args->value("--float")) {
        auto fm = model::loadModel(*f);
        if (!fm) return reportError(fm.error(), kExitBadInput);
        float_model = std::move(*fm);
    }

    std::vector<SampleFiles> samples;
    if (auto dir = args->value("--inputs")) {
        auto d = datasetSamples(m->main(), *dir);
        if (!d) return reportError(d.error(), kExitBadInput);
        samples = std::move(*d);
    } else {
        auto s = sampleFromSpecs(m->main(), args->values("--input"));
        if (!s) return reportError(s.error(), kExitBadInput);
        samples.push_back(std::move(*s));
    }
    const bool dataset = samples.size() > 1;
    options.progress = [&](int done, int total) {
        if (dataset) {
            std::fprintf(stderr, "\rsample %d/%d", done, total);
            if (done == total) std::fputc('\n', stderr);
            std::fflush(stderr);
        }
        return true;
    };
    auto source = [&](int i) {
        return loadSample(*m, samples[static_cast<size_t>(i)], seed, *pipeline);
    };
    auto result = an::analyze(*m, float_model ? &*float_model : nullptr,
                              static_cast<int>(samples.size()), source, options);
    if (!result) return reportError(result.error(), kExitBadInput);
    for (const auto& w : result->warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());

    an::ReportContext ctx;
    ctx.quant = &*m;
    ctx.float_model = float_model ? &*float_model : nullptr;
    ctx.model_path = model_path;
    ctx.float_model_path = args->value("--float").value_or("");
    for (const auto& s : samples) ctx.sample_names.push_back(s.name);

    if (auto w = an::writeReportFile(*csv, an::csvReport(*result, ctx)); !w)
        return reportError(w.error(), kExitBadInput);
    if (auto p = args->value("--per-channel-csv"))
        if (auto w = an::writeReportFile(*p, an::perChannelCsvReport(*result, ctx)); !w)
            return reportError(w.error(), kExitBadInput);
    if (auto p = args->value("--json"))
        if (auto w = an::writeReportFile(*p, an::jsonReport(*result, ctx)); !w)
            return reportError(w.error(), kExitBadInput);
    if (auto p = args->value("--model-explorer")) {
        auto me = an::modelExplorerReport(*result, ctx, metric, false);
        if (!me) return reportError(me.error(), kExitUsage);
        if (auto w = an::writeReportFile(*p, *me); !w) return reportError(w.error(), kExitBadInput);
    }

    const auto& sg = m->main();
    std::printf("%zu tensors compared over %d sample(s), %s error against the %s (profile %s)\n",
                result->tensors.size(), result->samples,
                std::string(an::errorModeName(result->mode)).c_str(),
                float_model ? "paired float model" : "float twin",
                std::string(engine::profileName(options.profile)).c_str());
    if (float_model) {
        const auto& p = result->pairing;
        std::printf(
            "pairing: %d quantized tensors paired; %s (%zu quantized, %zu float unmatched)\n",
            p.paired, p.complete() ? "complete" : "incomplete", p.unmatched_quant.size(),
            p.unmatched_float.size());
    }
    const auto* def = an::findMetric(metric);
    const an::TensorErrors* worst = nullptr;
    for (const auto& t : result->tensors) {
        const double v = t.averaged.*(def->field);
        if (std::isnan(v)) continue;
        if (!worst) {
            worst = &t;
            continue;
        }
        const double w = worst->averaged.*(def->field);
        if (def->higher_is_better ? v < w : v > w) worst = &t;
    }
    if (worst)
        std::printf("worst %s: %s at tensor %d '%s' (op %d %s)\n", metric.c_str(),
                    an::formatNumber(worst->averaged.*(def->field)).c_str(), worst->tensor.value,
                    sg.tensor(worst->tensor).name.c_str(), worst->producer.value,
                    worst->producer.valid() ? sg.op(worst->producer).name().c_str() : "input");
    return kExitOk;
}

}  // namespace qs::cli
