// `quantscope-cli inspect MODEL [--json]`: the ops of every subgraph in execution order.
#include <cstdio>
#include "model/str_format.h"
#include <string>

#include <nlohmann/json.hpp>

#include "app/cli/args.h"
#include "app/cli/commands.h"
#include "model/describe.h"
#include "model/loader.h"

namespace qs::cli {

namespace {

using model::Model;
using model::Subgraph;

std::string joinIds(const std::vector<TensorId>& ids) {
    std::string out;
    for (size_t i = 0; i < ids.size(); ++i) {
        if (i) out += ',';
        out += std::to_string(ids[i].value);
    }
    return out.empty() ? "-" : out;
}

void printTable(const Model& m) {
    size_t nOps = 0;
    for (const auto& sg : m.subgraphs) nOps += sg.operators.size();
    std::printf("%s: %zu subgraph(s), %zu op(s), schema version %u\n", m.path.c_str(),
                m.subgraphs.size(), nOps, m.version);
    if (!m.description.empty()) std::printf("description: %s\n", m.description.c_str());
    for (const auto& w : m.warnings) std::printf("warning: %s\n", w.c_str());

    for (size_t s = 0; s < m.subgraphs.size(); ++s) {
        const Subgraph& sg = m.subgraphs[s];
        std::printf("\nsubgraph %zu%s: %zu tensors, inputs [%s], outputs [%s]\n", s,
                    sg.name.empty() ? "" : qs::strFormat(" \"{}\"", sg.name).c_str(),
                    sg.tensors.size(), joinIds(sg.inputs).c_str(), joinIds(sg.outputs).c_str());
        for (const TensorId id : sg.inputs) {
            const auto& t = sg.tensor(id);
            std::printf("  input  %d \"%s\" %s %s %s\n", id.value, t.name.c_str(),
                        std::string(model::dtypeName(t.dtype)).c_str(),
                        model::formatShape(t.shape).c_str(),
                        model::formatQuantization(t.quantization).c_str());
        }
        std::printf("  %4s  %-24s %-20s %-14s %-8s %-8s %-16s %-28s %s\n", "#", "op", "options",
                    "inputs", "outputs", "dtype", "shape", "output quantization",
                    "weights quantization");
        for (size_t i = 0; i < sg.operators.size(); ++i) {
            const auto& op = sg.operators[i];
            std::string dtype = "-", shape = "-", quant;
            if (!op.outputs.empty() && op.outputs[0].valid()) {
                const auto& out = sg.tensor(op.outputs[0]);
                dtype = model::dtypeName(out.dtype);
                shape = model::formatShape(out.shape);
                quant = model::formatQuantization(out.quantization);
            }
            const auto* w = model::quantizedWeights(sg, op);
            std::printf("  %4zu  %-24s %-20s %-14s %-8s %-8s %-16s %-28s %s\n", i,
                        op.name().c_str(), model::formatKeyOptions(op).c_str(),
                        joinIds(op.inputs).c_str(), joinIds(op.outputs).c_str(), dtype.c_str(),
                        shape.c_str(), quant.empty() ? "-" : quant.c_str(),
                        w ? model::formatQuantization(w->quantization).c_str() : "");
        }
    }
}

nlohmann::ordered_json toJson(const Model& m) {
    using nlohmann::ordered_json;
    ordered_json subgraphs = ordered_json::array();
    for (const auto& sg : m.subgraphs) {
        ordered_json tensors = ordered_json::array();
        for (size_t i = 0; i < sg.tensors.size(); ++i) {
            const auto& t = sg.tensors[i];
            const auto& q = t.quantization;
            tensors.push_back({
                {"index", i},
                {"name", t.name},
                {"dtype", model::dtypeName(t.dtype)},
                {"shape", t.shape},
                {"scales", q.scales},
                {"zero_points", q.zero_points},
                // -1 for per-tensor or unquantized, as the conformance index.tsv files write it.
                {"quantized_dimension", q.isPerChannel() ? q.quantized_dimension : -1},
                {"is_constant", t.isConstant()},
            });
        }
        const auto ids = [](const std::vector<TensorId>& v) {
            std::vector<int32_t> out;
            for (const auto id : v) out.push_back(id.value);
            return out;
        };
        ordered_json ops = ordered_json::array();
        for (size_t i = 0; i < sg.operators.size(); ++i) {
            const auto& op = sg.operators[i];
            ops.push_back({{"index", i},
                           {"opcode", op.name()},
                           {"inputs", ids(op.inputs)},
                           {"outputs", ids(op.outputs)}});
        }
        subgraphs.push_back({{"name", sg.name},
                             {"inputs", ids(sg.inputs)},
                             {"outputs", ids(sg.outputs)},
                             {"tensors", tensors},
                             {"operators", ops}});
    }
    return {{"subgraphs", subgraphs}};
}

}  // namespace

int cmdInspect(std::span<const std::string> argv) {
    const auto args = Args::parse(argv, ArgSpec{.flags = {"--json"}});
    if (!args) return reportError(args.error(), kExitUsage);
    if (args->positional().size() != 1) {
        return reportError(fail("usage: quantscope-cli inspect MODEL [--json]").error(), kExitUsage);
    }
    const auto loaded = model::loadModel(args->positional()[0]);
    if (!loaded) return reportError(loaded.error(), kExitBadInput);
    if (args->has("--json")) {
        // ensure_ascii keeps the output valid even for tensor names with broken UTF-8.
        std::printf("%s\n", toJson(*loaded).dump(1, ' ', true, nlohmann::json::error_handler_t::replace).c_str());
    } else {
        printTable(*loaded);
    }
    return kExitOk;
}

}  // namespace qs::cli
