#include "engine/executor.h"

#include "model/str_format.h"

#include "engine/input_fill.h"
#include "engine/kernels/fold.h"
#include "engine/kernels/kernel.h"

namespace qs::engine {

struct PreparedGraph::Impl {
    const model::Model* model = nullptr;
    const model::Subgraph* sg = nullptr;
    RoundingProfile profile = RoundingProfile::Reference;
    bool plain = false;
    std::vector<TensorInfo> infos;                        // by tensor index
    std::vector<std::unique_ptr<TensorValue>> constants;  // by tensor index (null if not constant)
    std::vector<std::unique_ptr<Kernel>> kernels;         // ops [0, kernels.size())
    std::optional<OpId> stop;
    std::vector<std::unique_ptr<TensorValue>> folded;  // outputs computed at prepare (fold.h)
    std::vector<std::string> warnings;
};

PreparedGraph::PreparedGraph(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
PreparedGraph::PreparedGraph(PreparedGraph&&) noexcept = default;
PreparedGraph& PreparedGraph::operator=(PreparedGraph&&) noexcept = default;
PreparedGraph::~PreparedGraph() = default;

std::optional<OpId> PreparedGraph::stopsAt() const {
    return m_impl->stop;
}
const std::vector<std::string>& PreparedGraph::warnings() const {
    return m_impl->warnings;
}

namespace {

// A dynamic-range op: float activations with constant int8 weights (kernel.h top comment).
bool isHybrid(const model::Subgraph& sg, const model::Operator& op) {
    if (op.inputs.size() < 2 || !op.inputs[0].valid() || !op.inputs[1].valid()) return false;
    const auto& in = sg.tensor(op.inputs[0]);
    const auto& w = sg.tensor(op.inputs[1]);
    return in.dtype == model::DType::Float32 && w.dtype == model::DType::Int8 && w.isConstant();
}

}  // namespace

Result<PreparedGraph> PreparedGraph::prepare(const model::Model& model, SubgraphId subgraph,
                                             RoundingProfile profile, bool plain) {
    if (subgraph.value < 0 || static_cast<size_t>(subgraph.value) >= model.subgraphs.size())
        return fail(strFormat("subgraph {} does not exist (the model has {})", subgraph.value,
                              model.subgraphs.size()));
    auto impl = std::make_unique<Impl>();
    impl->model = &model;
    impl->sg = &model.subgraphs[static_cast<size_t>(subgraph.value)];
    impl->profile = profile;
    impl->plain = plain;
    const auto& sg = *impl->sg;
    impl->infos.resize(sg.tensors.size());
    impl->constants.resize(sg.tensors.size());
    for (size_t i = 0; i < sg.tensors.size(); ++i) {
        const auto& t = sg.tensors[i];
        auto& info = impl->infos[i];
        info.id = TensorId(static_cast<int32_t>(i));
        info.name = t.name;
        info.dtype = t.dtype;
        info.shape = t.shape;
        info.quant = &t.quantization;
        if (t.isConstant()) {
            auto v = TensorValue::fromConstant(t);
            if (v) {
                impl->constants[i] = std::make_unique<TensorValue>(std::move(*v));
                info.constant = impl->constants[i].get();
            }
            // A constant of a dtype the engine cannot hold stays absent; an op that reads
            // it stops the run with a warning below.
        }
    }

    const auto& registry = KernelRegistry::builtin();
    for (size_t i = 0; i < sg.operators.size(); ++i) {
        const auto& op = sg.operators[i];
        const OpId id(static_cast<int32_t>(i));
        auto stopHere = [&](std::string why) {
            impl->stop = id;
            impl->warnings.push_back(
                strFormat("op {} ({}): {}; the run stops before it", i, op.name(), why));
        };
        if (op.isCustom()) {
            stopHere("custom op is not supported");
            break;
        }
        KernelFactory factory = nullptr;
        if (isHybrid(sg, op)) factory = KernelRegistry::hybrid().find(op.opcode);
        if (!factory) factory = registry.find(op.opcode);
        if (!factory) {
            stopHere("no kernel for this op yet");
            break;
        }
        std::vector<const TensorInfo*> ins;
        bool missing_constant = false;
        for (TensorId t : op.inputs) {
            if (!t.valid()) {
                ins.push_back(nullptr);
                continue;
            }
            const auto& info = impl->infos[static_cast<size_t>(t.value)];
            if (sg.tensor(t).isConstant() && !info.constant) missing_constant = true;
            ins.push_back(&info);
        }
        if (missing_constant) {
            stopHere("reads a constant of a type the engine does not support");
            break;
        }
        std::vector<TensorInfo*> outs;
        for (TensorId t : op.outputs) outs.push_back(&impl->infos[static_cast<size_t>(t.value)]);
        PrepareContext ctx(op, id, profile, plain, std::move(ins), std::move(outs));
        auto kernel = factory();
        if (auto r = kernel->prepare(ctx); !r) {
            impl->stop = id;
            impl->warnings.push_back(r.error().message + "; the run stops before it");
            break;
        }
        foldKnownOutputs(ctx, *kernel, impl->folded);
        impl->kernels.push_back(std::move(kernel));
    }
    return PreparedGraph(std::move(impl));
}

Result<RunResult> PreparedGraph::run(std::span<const TensorValue> inputs,
                                     const RunOptions& options) {
    const auto& sg = *m_impl->sg;
    std::vector<TensorValue> seeded;
    if (inputs.empty() && !sg.inputs.empty()) {
        auto s = seededInputs(
            *m_impl->model,
            SubgraphId(static_cast<int32_t>(m_impl->sg - m_impl->model->subgraphs.data())),
            options.seed);
        if (!s) return std::unexpected(s.error());
        seeded = std::move(*s);
        inputs = seeded;
    }
    if (inputs.size() != sg.inputs.size())
        return fail(
            strFormat("the subgraph has {} inputs, {} given", sg.inputs.size(), inputs.size()));

    RunResult result;
    result.ops_total = static_cast<int>(sg.operators.size());
    result.values.resize(sg.tensors.size());
    result.warnings = m_impl->warnings;

    auto applyOverride = [&](TensorId id) -> Result<void> {
        if (!options.override_value) return {};
        auto& v = result.values[static_cast<size_t>(id.value)];
        const TensorValue* o = options.override_value(id, v);
        if (!o) return {};
        if (o->dtype() != v.dtype() || o->shape() != v.shape())
            return fail(strFormat("override for tensor {} has {} [{}], expected {} [{}]", id.value,
                                  model::dtypeName(o->dtype()), shapeString(o->shape()),
                                  model::dtypeName(v.dtype()), shapeString(v.shape())));
        auto q = v.quantization();
        v = *o;
        v.setQuantization(std::move(q));
        return {};
    };

    for (size_t i = 0; i < sg.inputs.size(); ++i) {
        const TensorId id = sg.inputs[i];
        const auto& t = sg.tensor(id);
        const auto& given = inputs[i];
        if (given.dtype() != t.dtype)
            return fail(strFormat("input {} ('{}') must be {}, got {}", i, t.name,
                                  model::dtypeName(t.dtype), model::dtypeName(given.dtype())));
        if (given.shape() != m_impl->infos[static_cast<size_t>(id.value)].shape)
            return fail(strFormat("input {} ('{}') must have shape [{}], got [{}]", i, t.name,
                                  shapeString(m_impl->infos[static_cast<size_t>(id.value)].shape),
                                  shapeString(given.shape())));
        auto& v = result.values[static_cast<size_t>(id.value)];
        v = given;
        v.setQuantization(t.quantization);
        if (auto r = applyOverride(id); !r) return std::unexpected(r.error());
        if (options.recorder) options.recorder(OpId{}, id, v);
    }
    for (size_t i = 0; i < sg.tensors.size(); ++i) {
        if (sg.tensors[i].is_variable && !result.values[i].valid()) {
            result.values[i] = TensorValue(sg.tensors[i].dtype, sg.tensors[i].shape);
            result.values[i].setQuantization(sg.tensors[i].quantization);
        }
    }

    const size_t n_ops = m_impl->kernels.size();
    for (size_t i = 0; i < n_ops; ++i) {
        const auto& op = sg.operators[i];
        const OpId op_id(static_cast<int32_t>(i));
        std::vector<const TensorValue*> ins;
        bool ok = true;
        for (TensorId t : op.inputs) {
            if (!t.valid()) {
                ins.push_back(nullptr);
                continue;
            }
            const auto idx = static_cast<size_t>(t.value);
            if (m_impl->constants[idx]) {
                ins.push_back(m_impl->constants[idx].get());
            } else if (result.values[idx].valid()) {
                ins.push_back(&result.values[idx]);
            } else {
                ok = false;
                result.warnings.push_back(
                    strFormat("op {} ({}): input tensor {} ('{}') was never produced; the run "
                              "stops before it",
                              i, op.name(), t.value, sg.tensor(t).name));
                break;
            }
        }
        if (!ok) {
            result.stopped_at = op_id;
            break;
        }
        std::vector<TensorValue*> outs;
        for (TensorId t : op.outputs) {
            const auto idx = static_cast<size_t>(t.value);
            const auto& info = m_impl->infos[idx];
            result.values[idx] = TensorValue(info.dtype, info.shape);
            result.values[idx].setQuantization(sg.tensors[idx].quantization);
            outs.push_back(&result.values[idx]);
        }
        EvalContext ctx(std::move(ins), std::move(outs));
        m_impl->kernels[i]->eval(ctx);
        if (ctx.failed()) {
            result.warnings.push_back(strFormat("op {} ({}): {}; the run stops at it", i,
                                                op.name(), ctx.error()));
            for (TensorId t : op.outputs) result.values[static_cast<size_t>(t.value)] = {};
            result.stopped_at = op_id;
            break;
        }
        ++result.ops_run;
        for (TensorId t : op.outputs) {
            if (auto r = applyOverride(t); !r) return std::unexpected(r.error());
            if (options.recorder)
                options.recorder(op_id, t, result.values[static_cast<size_t>(t.value)]);
        }
        if (options.progress && !options.progress(static_cast<int>(i + 1), result.ops_total)) {
            result.cancelled = true;
            break;
        }
    }
    if (!result.stopped_at && !result.cancelled && m_impl->stop) result.stopped_at = m_impl->stop;

    if (!options.keep_values) {
        std::vector<bool> keep(sg.tensors.size(), false);
        for (TensorId t : sg.outputs) keep[static_cast<size_t>(t.value)] = true;
        for (size_t i = 0; i < keep.size(); ++i)
            if (!keep[i]) result.values[i] = TensorValue();
    }
    return result;
}

Result<RunResult> run(const model::Model& model, SubgraphId subgraph,
                      std::span<const TensorValue> inputs, const RunOptions& options) {
    auto prepared = PreparedGraph::prepare(model, subgraph, options.profile, options.plain);
    if (!prepared) return std::unexpected(prepared.error());
    return prepared->run(inputs, options);
}

Result<std::vector<TensorValue>> seededInputs(const model::Model& model, SubgraphId subgraph,
                                              uint64_t seed) {
    if (subgraph.value < 0 || static_cast<size_t>(subgraph.value) >= model.subgraphs.size())
        return fail(strFormat("subgraph {} does not exist", subgraph.value));
    const auto& sg = model.subgraphs[static_cast<size_t>(subgraph.value)];
    std::vector<TensorValue> out;
    for (size_t i = 0; i < sg.inputs.size(); ++i) {
        auto v = seededFill(sg.tensor(sg.inputs[i]), seed, static_cast<int>(i));
        if (!v) return std::unexpected(v.error());
        out.push_back(std::move(*v));
    }
    return out;
}

}  // namespace qs::engine
