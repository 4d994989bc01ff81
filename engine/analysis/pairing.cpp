#include "engine/analysis/pairing.h"

#include <optional>
#include <unordered_map>

#include "engine/tensor_value.h"

#include "model/str_format.h"

namespace qs::engine::analysis {

namespace {

using model::BuiltinOp;

// Op types a converter emits for the same computation.
int opFamily(BuiltinOp op) {
    switch (op) {
        case BuiltinOp::RESHAPE:
        case BuiltinOp::SQUEEZE:
        case BuiltinOp::EXPAND_DIMS:
            return 1;
        case BuiltinOp::FULLY_CONNECTED:
        case BuiltinOp::BATCH_MATMUL:
            return 2;
        default:
            return 1000 + static_cast<int>(op);
    }
}

bool isQuantizeOp(BuiltinOp op) {
    return op == BuiltinOp::QUANTIZE || op == BuiltinOp::DEQUANTIZE;
}

std::vector<bool> referenced(const model::Subgraph& sg) {
    std::vector<bool> used(sg.tensors.size(), false);
    auto mark = [&](TensorId t) {
        if (t.valid()) used[static_cast<size_t>(t.value)] = true;
    };
    for (TensorId t : sg.inputs) mark(t);
    for (TensorId t : sg.outputs) mark(t);
    for (const auto& op : sg.operators) {
        for (TensorId t : op.inputs) mark(t);
        for (TensorId t : op.outputs) mark(t);
    }
    return used;
}

}  // namespace

std::string_view pairMethodName(PairMethod m) {
    switch (m) {
        case PairMethod::Name:
            return "name";
        case PairMethod::Position:
            return "position";
        case PairMethod::PassThrough:
            return "pass-through";
        default:
            return "";
    }
}

bool carriesValues(const model::Tensor& t) {
    return model::isFloat(t.dtype) ||
           (model::isQuantizable(t.dtype) && t.quantization.isQuantized());
}

TensorPairing identityPairing(const model::Model& quant) {
    const auto& sg = quant.main();
    TensorPairing p;
    p.float_of.resize(sg.tensors.size());
    p.method.assign(sg.tensors.size(), PairMethod::Name);
    for (size_t i = 0; i < sg.tensors.size(); ++i)
        p.float_of[i] = TensorId(static_cast<int32_t>(i));
    p.paired = static_cast<int>(sg.tensors.size());
    return p;
}

TensorPairing pairModels(const model::Model& quantModel, const model::Model& floatModel) {
    const auto& q = quantModel.main();
    const auto& f = floatModel.main();
    TensorPairing p;
    p.float_of.assign(q.tensors.size(), TensorId{});
    p.method.assign(q.tensors.size(), PairMethod::None);
    std::vector<int> partners(f.tensors.size(), 0);

    auto link = [&](TensorId qt, TensorId ft, PairMethod how) -> bool {
        if (!qt.valid() || !ft.valid()) return false;
        const auto qi = static_cast<size_t>(qt.value), fi = static_cast<size_t>(ft.value);
        if (p.float_of[qi].valid()) return false;
        const auto& a = q.tensors[qi];
        const auto& b = f.tensors[fi];
        if (a.numElements() != b.numElements() || a.isConstant() != b.isConstant()) return false;
        if (carriesValues(a) != carriesValues(b)) return false;
        p.float_of[qi] = ft;
        p.method[qi] = how;
        ++partners[fi];
        return true;
    };

    // 1. Names present exactly once on each side.
    std::unordered_map<std::string, int> q_count, f_count;
    std::unordered_map<std::string, int32_t> f_index;
    for (const auto& t : q.tensors) ++q_count[t.name];
    for (size_t i = 0; i < f.tensors.size(); ++i) {
        ++f_count[f.tensors[i].name];
        f_index[f.tensors[i].name] = static_cast<int32_t>(i);
    }
    for (size_t i = 0; i < q.tensors.size(); ++i) {
        const auto& name = q.tensors[i].name;
        if (name.empty() || q_count[name] != 1) continue;
        auto it = f_count.find(name);
        if (it == f_count.end() || it->second != 1) continue;
        link(TensorId(static_cast<int32_t>(i)), TensorId(f_index[name]), PairMethod::Name);
    }

    // 2. Graph inputs and outputs in order.
    for (size_t i = 0; i < q.inputs.size() && i < f.inputs.size(); ++i)
        link(q.inputs[i], f.inputs[i], PairMethod::Position);
    for (size_t i = 0; i < q.outputs.size() && i < f.outputs.size(); ++i)
        link(q.outputs[i], f.outputs[i], PairMethod::Position);

    // 3. Ops in execution order.
    const auto f_producers = f.producers();
    std::vector<std::vector<size_t>> f_consumers(f.tensors.size());
    for (size_t i = 0; i < f.operators.size(); ++i)
        for (TensorId t : f.operators[i].inputs)
            if (t.valid()) f_consumers[static_cast<size_t>(t.value)].push_back(i);
    std::vector<bool> f_used(f.operators.size(), false);

    for (size_t oi = 0; oi < q.operators.size(); ++oi) {
        const auto& qo = q.operators[oi];
        if (isQuantizeOp(qo.opcode)) {
            // The float model has no such op: the output stands for the input's partner.
            if (!qo.inputs.empty() && !qo.outputs.empty() && qo.inputs[0].valid()) {
                const TensorId ft = p.float_of[static_cast<size_t>(qo.inputs[0].value)];
                if (ft.valid()) link(qo.outputs[0], ft, PairMethod::PassThrough);
            }
            continue;
        }
        std::optional<size_t> match;
        // a) An output already paired (by name) names the float op.
        for (TensorId t : qo.outputs) {
            const TensorId ft = p.float_of[static_cast<size_t>(t.value)];
            if (!ft.valid()) continue;
            const OpId prod = f_producers[static_cast<size_t>(ft.value)];
            if (prod.valid() && !f_used[static_cast<size_t>(prod.value)]) {
                match = static_cast<size_t>(prod.value);
                break;
            }
        }
        // b) A float op of the same family consuming the partner of a data input.
        if (!match) {
            for (TensorId t : qo.inputs) {
                if (!t.valid() || q.tensor(t).isConstant()) continue;
                const TensorId ft = p.float_of[static_cast<size_t>(t.value)];
                if (!ft.valid()) continue;
                for (size_t c : f_consumers[static_cast<size_t>(ft.value)]) {
                    if (f_used[c] || opFamily(f.operators[c].opcode) != opFamily(qo.opcode))
                        continue;
                    match = c;
                    break;
                }
                if (match) break;
            }
        }
        if (!match) continue;
        const auto& fo = f.operators[*match];
        if (opFamily(fo.opcode) != opFamily(qo.opcode)) {
            p.notes.push_back(
                strFormat("op {} ({}) pairs with float op {} ({}) by name, but the "
                          "op types differ",
                          oi, qo.name(), *match, fo.name()));
            continue;
        }
        f_used[*match] = true;
        if (fo.opcode != qo.opcode)
            p.notes.push_back(
                strFormat("op {} ({}) corresponds to float op {} ({}): the converter "
                          "chose a different op for the same computation",
                          oi, qo.name(), *match, fo.name()));
        for (size_t k = 0; k < qo.outputs.size() && k < fo.outputs.size(); ++k)
            link(qo.outputs[k], fo.outputs[k], PairMethod::Position);
        for (size_t k = 0; k < qo.inputs.size() && k < fo.inputs.size(); ++k)
            link(qo.inputs[k], fo.inputs[k], PairMethod::Position);
    }

    // What is left.
    const auto q_used = referenced(q);
    const auto f_used_t = referenced(f);
    for (size_t i = 0; i < q.tensors.size(); ++i) {
        if (p.float_of[i].valid()) {
            ++p.paired;
            continue;
        }
        if (!q_used[i]) continue;
        (carriesValues(q.tensors[i]) ? p.unmatched_quant : p.unmatched_structural_quant)
            .push_back(TensorId(static_cast<int32_t>(i)));
    }
    for (size_t i = 0; i < f.tensors.size(); ++i) {
        if (partners[i] || !f_used_t[i]) continue;
        (carriesValues(f.tensors[i]) ? p.unmatched_float : p.unmatched_structural_float)
            .push_back(TensorId(static_cast<int32_t>(i)));
    }
    for (TensorId t : p.unmatched_quant) {
        const auto& qt = q.tensor(t);
        p.notes.push_back(strFormat("quantized tensor {} '{}' [{}] has no float partner", t.value,
                                    qt.name, shapeString(qt.shape)));
    }
    for (TensorId t : p.unmatched_float) {
        const auto& ft = f.tensor(t);
        p.notes.push_back(strFormat("float tensor {} '{}' [{}] has no quantized partner", t.value,
                                    ft.name, shapeString(ft.shape)));
    }
    return p;
}

}  // namespace qs::engine::analysis
