// `quantscope-cli trace MODEL --tensor NAME|INDEX --element i,j,k,l
//      [--input NAME|INDEX=FILE.npy]... [--seed N] [--profile P|all] [--json]`
// Runs subgraph 0 and prints the element trace (engine/trace/element_trace.h) of one output
// element. With one profile the model runs under it and that profile is traced; with `all`
// (the default) the model runs under the reference profile and every profile is traced on the
// op's inputs from that run, so the trace shows where the runtimes' arithmetic parts.
// JSON: an object with the trace; `profiles` holds one object per profile, each with its
// `output`; with a single profile the top-level `output` and `profile` repeat it.
#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/cli/args.h"
#include "app/cli/commands.h"
#include "engine/executor.h"
#include "engine/input_fill.h"
#include "engine/io/npy.h"
#include "engine/trace/element_trace.h"
#include "model/loader.h"
#include "model/str_format.h"

namespace qs::cli {

namespace {

using engine::TensorValue;
using nlohmann::ordered_json;

constexpr const char* kUsage =
    "trace MODEL --tensor NAME|INDEX --element i,j,k,l [--input NAME|INDEX=FILE.npy]... "
    "[--seed N] [--profile reference|single-rounding|xnnpack|builtin|all] [--json]";

// Input files must match the input's dtype and shape exactly; the rest get the seeded fill.
Result<std::vector<TensorValue>> traceInputs(const model::Model& m,
                                             const std::vector<std::string>& specs, uint64_t seed) {
    const auto& sg = m.main();
    std::vector<std::optional<TensorValue>> given(sg.inputs.size());
    for (const auto& spec : specs) {
        const auto eq = spec.find('=');
        if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
            return fail(strFormat("--input '{}' is not NAME=FILE or INDEX=FILE", spec));
        const std::string key = spec.substr(0, eq);
        std::optional<size_t> index;
        for (size_t i = 0; i < sg.inputs.size(); ++i)
            if (sg.tensor(sg.inputs[i]).name == key) index = i;
        if (!index)
            if (auto n = parseInteger(key); n && static_cast<size_t>(*n) < sg.inputs.size())
                index = static_cast<size_t>(*n);
        if (!index)
            return fail(strFormat("--input '{}': the model has no input named or numbered '{}'",
                                  spec, key));
        const std::string file = spec.substr(eq + 1);
        auto v = engine::readNpy(file);
        if (!v) return std::unexpected(v.error());
        const auto& t = sg.tensor(sg.inputs[*index]);
        if (v->shape() != t.shape || v->dtype() != t.dtype)
            return fail(strFormat("{}: {} [{}] does not match input {} '{}' ({} [{}])", file,
                                  model::dtypeName(v->dtype()), engine::shapeString(v->shape()),
                                  *index, t.name, model::dtypeName(t.dtype),
                                  engine::shapeString(t.shape)));
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

// "0,3,5,7" -> coordinates; nullopt when not a comma-separated list of non-negative integers.
std::optional<std::vector<int32_t>> parseElement(const std::string& text) {
    std::vector<int32_t> out;
    size_t start = 0;
    while (true) {
        const size_t comma = text.find(',', start);
        const std::string part =
            text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        auto n = parseInteger(part);
        if (!n || *n > INT32_MAX) return std::nullopt;
        out.push_back(static_cast<int32_t>(*n));
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return out;
}

}  // namespace

int cmdTrace(std::span<const std::string> argv) {
    ArgSpec spec;
    spec.flags = {"--json"};
    spec.valued = {"--input", "--seed", "--profile", "--tensor", "--element"};
    spec.repeatable = {"--input"};
    auto args = Args::parse(argv, spec);
    if (!args) return reportError(args.error(), kExitUsage);
    if (args->positional().size() != 1)
        return reportError(Error{strFormat("usage: quantscope-cli {}", kUsage)}, kExitUsage);
    const auto tensor_arg = args->value("--tensor");
    const auto element_arg = args->value("--element");
    if (!tensor_arg || !element_arg)
        return reportError(
            Error{strFormat("--tensor and --element are required (usage: quantscope-cli {})",
                            kUsage)},
            kExitUsage);
    const auto element = parseElement(*element_arg);
    if (!element)
        return reportError(
            Error{strFormat("--element '{}' is not a comma-separated list of non-negative "
                            "integers",
                            *element_arg)},
            kExitUsage);
    uint64_t seed = 0;
    if (auto s = args->value("--seed")) {
        auto n = parseInteger(*s);
        if (!n)
            return reportError(Error{strFormat("--seed '{}' is not a non-negative integer", *s)},
                               kExitUsage);
        seed = static_cast<uint64_t>(*n);
    }
    std::vector<engine::RoundingProfile> profiles(engine::kAllProfiles.begin(),
                                                  engine::kAllProfiles.end());
    engine::RoundingProfile run_profile = engine::RoundingProfile::Reference;
    const std::string profile_arg = args->value("--profile").value_or("all");
    const bool single = profile_arg != "all";
    if (single) {
        auto parsed = engine::parseProfile(profile_arg);
        if (!parsed)
            return reportError(
                Error{strFormat("--profile '{}' is not one of reference, single-rounding, "
                                "xnnpack, builtin, all",
                                profile_arg)},
                kExitUsage);
        profiles = {*parsed};
        run_profile = *parsed;
    }

    auto m = model::loadModel(args->positional()[0]);
    if (!m) return reportError(m.error(), kExitBadInput);
    const auto& sg = m->main();
    std::optional<TensorId> tensor;
    for (size_t i = 0; i < sg.tensors.size(); ++i)
        if (sg.tensors[i].name == *tensor_arg) tensor = TensorId{static_cast<int32_t>(i)};
    if (!tensor)
        if (auto n = parseInteger(*tensor_arg); n && static_cast<size_t>(*n) < sg.tensors.size())
            tensor = TensorId{static_cast<int32_t>(*n)};
    if (!tensor)
        return reportError(
            Error{strFormat("--tensor '{}': subgraph 0 has no tensor with that name or index",
                            *tensor_arg)},
            kExitBadInput);
    if (auto ok = engine::trace::traceSupported(*m, SubgraphId{0}, *tensor); !ok)
        return reportError(ok.error(), kExitBadInput);

    auto inputs = traceInputs(*m, args->values("--input"), seed);
    if (!inputs) return reportError(inputs.error(), kExitBadInput);
    engine::RunOptions options;
    options.profile = run_profile;
    auto run = engine::run(*m, SubgraphId{0}, *inputs, options);
    if (!run) return reportError(run.error(), kExitBadInput);
    for (const auto& w : run->warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());

    auto t = engine::trace::traceElement(*m, SubgraphId{0}, *tensor, *element, *run, profiles);
    if (!t) return reportError(t.error(), kExitBadInput);

    if (args->has("--json")) {
        ordered_json j;
        j["model"] = args->positional()[0];
        j["run_profile"] = std::string(engine::profileName(run_profile));
        if (single) {
            j["profile"] = std::string(engine::profileName(run_profile));
            j["output"] = t->profiles.front().output;
        }
        const ordered_json body = ordered_json::parse(engine::trace::traceJson(*t));
        for (auto it = body.begin(); it != body.end(); ++it) j[it.key()] = it.value();
        std::printf("%s\n", j.dump(2).c_str());
    } else {
        std::printf("inputs of the op from a run under profile %s\n",
                    std::string(engine::profileName(run_profile)).c_str());
        std::printf("%s", engine::trace::formatTrace(*t).c_str());
    }
    return kExitOk;
}

}  // namespace qs::cli
