#include "engine/executor.h"

#include <algorithm>
#include <cstring>

#include "engine/input_fill.h"
#include "engine/kernels/fold.h"
#include "engine/kernels/kernel.h"
#include "engine/subgraph_host.h"
#include "model/str_format.h"

namespace qs::engine {

namespace {

// One prepared subgraph: the run subgraph, or a callee of IF/WHILE/CALL_ONCE.
struct Plan {
    SubgraphId id;
    const model::Subgraph* sg = nullptr;
    std::vector<TensorInfo> infos;                        // by tensor index
    std::vector<std::unique_ptr<TensorValue>> constants;  // by tensor index (null if not constant)
    std::vector<std::unique_ptr<Kernel>> kernels;         // ops [0, kernels.size())
    std::optional<OpId> stop;
    std::vector<std::unique_ptr<TensorValue>> folded;  // outputs computed at prepare (fold.h)
    std::vector<std::string> warnings;
    std::vector<size_t> variables;  // tensor indexes with is_variable
    // Variable tensors as the last invocation left them (by tensor index; invalid = zero).
    std::vector<TensorValue> state;
};

// A dynamic-range op: float activations with constant int8 weights (kernel.h top comment).
bool isHybrid(const model::Subgraph& sg, const model::Operator& op) {
    if (op.inputs.size() < 2 || !op.inputs[0].valid() || !op.inputs[1].valid()) return false;
    const auto& in = sg.tensor(op.inputs[0]);
    const auto& w = sg.tensor(op.inputs[1]);
    return in.dtype == model::DType::Float32 && w.dtype == model::DType::Int8 && w.isConstant();
}

// Ops that run other subgraphs: never folded at prepare (their eval runs a callee).
bool callsSubgraphs(model::BuiltinOp op) {
    return op == model::BuiltinOp::IF || op == model::BuiltinOp::WHILE ||
           op == model::BuiltinOp::CALL_ONCE;
}

// Callees nest at most this deep at run time (prepare already rejects recursion).
constexpr int kMaxCallDepth = 64;

struct OpsOutcome {
    int ops_run = 0;
    std::optional<OpId> stopped_at;
    bool cancelled = false;
    std::string why;  // the warning for stopped_at
};

}  // namespace

struct PreparedGraph::Impl final : SubgraphHost {
    const model::Model* model = nullptr;
    RoundingProfile profile = RoundingProfile::Reference;
    bool plain = false;
    std::unique_ptr<Plan> main;
    std::vector<std::unique_ptr<Plan>> bodies;  // PreparedBody::handle indexes here
    std::vector<int32_t> preparing;             // subgraphs on the prepare stack
    const RunOptions* options = nullptr;        // during run()
    int depth = 0;

    Result<std::unique_ptr<Plan>> preparePlan(SubgraphId id,
                                              std::span<const TensorInfo* const> input_shapes);
    Result<OpsOutcome> runOps(Plan& plan, std::vector<TensorValue>& values, RunResult* result);
    void loadState(Plan& plan, std::vector<TensorValue>& values) const;
    static void saveState(Plan& plan, const std::vector<TensorValue>& values);
    void record(const Plan& plan, OpId op, TensorId t, const TensorValue& v) const;

    Result<PreparedBody> prepareBody(int32_t subgraph,
                                     std::span<const TensorInfo* const> inputs) override;
    std::string invokeBody(const PreparedBody& body, std::span<const TensorValue* const> inputs,
                           std::span<TensorValue* const> outputs) override;
    int64_t maxWhileIterations() const override {
        return options ? options->max_while_iterations : RunOptions{}.max_while_iterations;
    }
};

PreparedGraph::PreparedGraph(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
PreparedGraph::PreparedGraph(PreparedGraph&&) noexcept = default;
PreparedGraph& PreparedGraph::operator=(PreparedGraph&&) noexcept = default;
PreparedGraph::~PreparedGraph() = default;

std::optional<OpId> PreparedGraph::stopsAt() const {
    return m_impl->main->stop;
}
const std::vector<std::string>& PreparedGraph::warnings() const {
    return m_impl->main->warnings;
}
void PreparedGraph::resetState() {
    for (auto& v : m_impl->main->state) v = TensorValue();
    for (auto& b : m_impl->bodies)
        for (auto& v : b->state) v = TensorValue();
}

Result<std::unique_ptr<Plan>> PreparedGraph::Impl::preparePlan(
    SubgraphId id, std::span<const TensorInfo* const> input_shapes) {
    auto plan = std::make_unique<Plan>();
    plan->id = id;
    plan->sg = &model->subgraphs[static_cast<size_t>(id.value)];
    const auto& sg = *plan->sg;
    plan->infos.resize(sg.tensors.size());
    plan->constants.resize(sg.tensors.size());
    plan->state.resize(sg.tensors.size());
    for (size_t i = 0; i < sg.tensors.size(); ++i) {
        const auto& t = sg.tensors[i];
        auto& info = plan->infos[i];
        info.id = TensorId(static_cast<int32_t>(i));
        info.name = t.name;
        info.dtype = t.dtype;
        info.shape = t.shape;
        info.quant = &t.quantization;
        info.model_tensor = &t;
        if (t.is_variable) plan->variables.push_back(i);
        // Sparse constants stay encoded: only DENSIFY reads them (through model_tensor).
        if (t.isConstant() && !t.sparsity) {
            auto v = TensorValue::viewOfConstant(t);
            if (v) {
                plan->constants[i] = std::make_unique<TensorValue>(std::move(*v));
                info.constant = plan->constants[i].get();
            }
            // A constant of a dtype the engine cannot hold stays absent; an op that reads
            // it stops the run with a warning below.
        }
    }
    // A callee takes its caller's shapes (TFLite: ResizeInputTensor in if.cc / while.cc).
    if (!input_shapes.empty()) {
        if (input_shapes.size() != sg.inputs.size())
            return fail(strFormat("subgraph {} has {} inputs, the caller passes {}", id.value,
                                  sg.inputs.size(), input_shapes.size()));
        for (size_t i = 0; i < sg.inputs.size(); ++i) {
            auto& info = plan->infos[static_cast<size_t>(sg.inputs[i].value)];
            if (info.dtype != input_shapes[i]->dtype)
                return fail(strFormat("subgraph {} input {} ('{}') is {}, the caller passes {}",
                                      id.value, i, info.name, model::dtypeName(info.dtype),
                                      model::dtypeName(input_shapes[i]->dtype)));
            info.shape = input_shapes[i]->shape;
        }
    }

    const auto& registry = KernelRegistry::builtin();
    for (size_t i = 0; i < sg.operators.size(); ++i) {
        const auto& op = sg.operators[i];
        const OpId op_id(static_cast<int32_t>(i));
        auto stopHere = [&](std::string why) {
            plan->stop = op_id;
            plan->warnings.push_back(
                strFormat("op {} ({}): {}; the run stops before it", i, op.name(), why));
        };
        KernelFactory factory = nullptr;
        if (op.isCustom()) {
            factory = registry.findCustom(op.custom_code);
            if (!factory) {
                stopHere("custom op is not supported");
                break;
            }
        } else {
            if (isHybrid(sg, op)) factory = KernelRegistry::hybrid().find(op.opcode);
            if (!factory) factory = registry.find(op.opcode);
            if (!factory) {
                stopHere("no kernel for this op yet");
                break;
            }
        }
        std::vector<const TensorInfo*> ins;
        std::string bad_constant;
        for (TensorId t : op.inputs) {
            if (!t.valid()) {
                ins.push_back(nullptr);
                continue;
            }
            const auto& info = plan->infos[static_cast<size_t>(t.value)];
            const auto& tensor = sg.tensor(t);
            if (tensor.isConstant() && !info.constant) {
                if (!tensor.sparsity)
                    bad_constant = "reads a constant of a type the engine does not support";
                else if (op.opcode != model::BuiltinOp::DENSIFY)
                    bad_constant = strFormat(
                        "reads the sparse constant tensor {} ('{}'), which "
                        "only DENSIFY can read",
                        t.value, tensor.name);
            }
            ins.push_back(&info);
        }
        if (!bad_constant.empty()) {
            stopHere(bad_constant);
            break;
        }
        std::vector<TensorInfo*> outs;
        for (TensorId t : op.outputs) outs.push_back(&plan->infos[static_cast<size_t>(t.value)]);
        PrepareContext ctx(op, op_id, profile, plain, std::move(ins), std::move(outs));
        ctx.setSubgraphHost(this);
        if (!op.intermediates.empty()) {
            std::vector<const TensorInfo*> inter;
            for (TensorId t : op.intermediates)
                inter.push_back(t.valid() && static_cast<size_t>(t.value) < plan->infos.size()
                                    ? &plan->infos[static_cast<size_t>(t.value)]
                                    : nullptr);
            ctx.setIntermediates(std::move(inter));
        }
        auto kernel = factory();
        if (auto r = kernel->prepare(ctx); !r) {
            plan->stop = op_id;
            plan->warnings.push_back(r.error().message + "; the run stops before it");
            break;
        }
        if (!callsSubgraphs(op.opcode)) foldKnownOutputs(ctx, *kernel, plan->folded);
        plan->kernels.push_back(std::move(kernel));
    }
    return plan;
}

Result<PreparedBody> PreparedGraph::Impl::prepareBody(int32_t subgraph,
                                                      std::span<const TensorInfo* const> inputs) {
    if (subgraph < 0 || static_cast<size_t>(subgraph) >= model->subgraphs.size())
        return fail(strFormat("subgraph {} does not exist (the model has {})", subgraph,
                              model->subgraphs.size()));
    if (std::find(preparing.begin(), preparing.end(), subgraph) != preparing.end())
        return fail(
            strFormat("subgraph {} calls itself (directly or through others); recursion "
                      "is not supported",
                      subgraph));
    auto describe = [&](const Plan& plan, int handle) {
        PreparedBody b;
        b.handle = handle;
        b.subgraph = subgraph;
        for (TensorId t : plan.sg->inputs)
            b.inputs.push_back(plan.infos[static_cast<size_t>(t.value)]);
        for (TensorId t : plan.sg->outputs)
            b.outputs.push_back(plan.infos[static_cast<size_t>(t.value)]);
        return b;
    };
    for (size_t h = 0; h < bodies.size(); ++h) {
        const Plan& p = *bodies[h];
        if (p.id.value != subgraph || p.sg->inputs.size() != inputs.size()) continue;
        bool same = true;
        for (size_t i = 0; i < inputs.size() && same; ++i)
            same = p.infos[static_cast<size_t>(p.sg->inputs[i].value)].shape == inputs[i]->shape;
        if (same) return describe(p, static_cast<int>(h));
    }
    preparing.push_back(subgraph);
    auto plan = preparePlan(SubgraphId(subgraph), inputs);
    preparing.pop_back();
    if (!plan) return std::unexpected(plan.error());
    const auto& sg = *(*plan)->sg;
    if ((*plan)->stop)
        return fail(strFormat("subgraph {} ('{}'): {}", subgraph, sg.name,
                              (*plan)->warnings.empty() ? "cannot run" : (*plan)->warnings.back()));
    if (inputs.empty() && !sg.inputs.empty())
        return fail(strFormat("subgraph {} ('{}') takes {} inputs, the caller passes none",
                              subgraph, sg.name, sg.inputs.size()));
    bodies.push_back(std::move(*plan));
    return describe(*bodies.back(), static_cast<int>(bodies.size() - 1));
}

void PreparedGraph::Impl::loadState(Plan& plan, std::vector<TensorValue>& values) const {
    for (size_t i : plan.variables) {
        const auto& t = plan.sg->tensors[i];
        if (values[i].valid()) continue;  // also a graph input: the caller's value wins
        if (plan.state[i].valid()) {
            values[i] = plan.state[i];
        } else {
            // TFLite's ResetVariableTensor (tensorflow/lite/core/api/tensor_utils.cc) memsets
            // a variable to 0, except an INT8 one, which it fills with its zero point: an int8
            // state starts at real value 0. Other types (the int16 LSTM cell state, float)
            // start at raw 0.
            values[i] = TensorValue(t.dtype, plan.infos[i].shape);
            values[i].setQuantization(t.quantization);
            if (t.dtype == model::DType::Int8 && t.quantization.isQuantized()) {
                const auto zp = static_cast<int8_t>(t.quantization.zeroPoint(0));
                auto data = values[i].data<int8_t>();
                std::fill(data.begin(), data.end(), zp);
            }
        }
    }
}

void PreparedGraph::Impl::saveState(Plan& plan, const std::vector<TensorValue>& values) {
    for (size_t i : plan.variables)
        if (values[i].valid()) plan.state[i] = values[i];
}

void PreparedGraph::Impl::record(const Plan& plan, OpId op, TensorId t,
                                 const TensorValue& v) const {
    if (&plan == main.get()) {
        if (options->recorder) options->recorder(op, t, v);
    } else if (options->body_recorder) {
        options->body_recorder(plan.id, op, t, v);
    }
}

Result<OpsOutcome> PreparedGraph::Impl::runOps(Plan& plan, std::vector<TensorValue>& values,
                                               RunResult* result) {
    const auto& sg = *plan.sg;
    const bool is_main = result != nullptr;
    OpsOutcome out;

    auto applyOverride = [&](TensorId id) -> Result<void> {
        if (!is_main || !options->override_value) return {};
        auto& v = values[static_cast<size_t>(id.value)];
        const TensorValue* o = options->override_value(id, v);
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

    const size_t n_ops = plan.kernels.size();
    for (size_t i = 0; i < n_ops; ++i) {
        const auto& op = sg.operators[i];
        const OpId op_id(static_cast<int32_t>(i));
        std::vector<const TensorValue*> ins;
        std::vector<TensorValue*> vars;
        bool any_variable = false;
        for (TensorId t : op.inputs) {
            vars.push_back(nullptr);
            if (!t.valid()) {
                ins.push_back(nullptr);
                continue;
            }
            const auto idx = static_cast<size_t>(t.value);
            if (plan.constants[idx]) {
                ins.push_back(plan.constants[idx].get());
            } else if (values[idx].valid()) {
                ins.push_back(&values[idx]);
                if (sg.tensors[idx].is_variable) {
                    vars.back() = &values[idx];
                    any_variable = true;
                }
            } else if (sg.tensors[idx].sparsity && sg.tensors[idx].isConstant()) {
                ins.push_back(nullptr);  // DENSIFY works from its prepared dense copy
            } else {
                out.stopped_at = op_id;
                out.why = strFormat(
                    "op {} ({}): input tensor {} ('{}') was never produced; the "
                    "run stops before it",
                    i, op.name(), t.value, sg.tensor(t).name);
                return out;
            }
        }
        std::vector<TensorValue*> outs;
        const bool whole = plan.kernels[i]->writesWholeOutputs();
        for (TensorId t : op.outputs) {
            const auto idx = static_cast<size_t>(t.value);
            const auto& info = plan.infos[idx];
            values[idx] = whole ? TensorValue(info.dtype, info.shape, TensorValue::Uninitialized{})
                                : TensorValue(info.dtype, info.shape);
            values[idx].setQuantization(sg.tensors[idx].quantization);
            outs.push_back(&values[idx]);
        }
        EvalContext ctx(std::move(ins), std::move(outs));
        if (any_variable) ctx.setVariables(std::move(vars));
        ++depth;
        plan.kernels[i]->eval(ctx);
        --depth;
        if (ctx.failed()) {
            out.why = strFormat("op {} ({}): {}; the run stops at it", i, op.name(), ctx.error());
            for (TensorId t : op.outputs) values[static_cast<size_t>(t.value)] = {};
            out.stopped_at = op_id;
            return out;
        }
        ++out.ops_run;
        for (TensorId t : op.outputs) {
            if (auto r = applyOverride(t); !r) return std::unexpected(r.error());
            record(plan, op_id, t, values[static_cast<size_t>(t.value)]);
        }
        // State the op updated in place (SVDF, LSTM) is reported after it, with the op.
        if (any_variable)
            for (TensorId t : op.inputs)
                if (t.valid() && sg.tensors[static_cast<size_t>(t.value)].is_variable)
                    record(plan, op_id, t, values[static_cast<size_t>(t.value)]);
        if (is_main && options->progress &&
            !options->progress(static_cast<int>(i + 1), static_cast<int>(sg.operators.size()))) {
            out.cancelled = true;
            return out;
        }
    }
    return out;
}

std::string PreparedGraph::Impl::invokeBody(const PreparedBody& body,
                                            std::span<const TensorValue* const> inputs,
                                            std::span<TensorValue* const> outputs) {
    if (body.handle < 0 || static_cast<size_t>(body.handle) >= bodies.size() || !options)
        return "subgraph was not prepared by this executor";
    if (depth > kMaxCallDepth)
        return strFormat("subgraph calls nest deeper than {}", kMaxCallDepth);
    Plan& plan = *bodies[static_cast<size_t>(body.handle)];
    const auto& sg = *plan.sg;
    if (inputs.size() != sg.inputs.size() || outputs.size() != sg.outputs.size())
        return strFormat("subgraph {} takes {} inputs and {} outputs, got {} and {}", plan.id.value,
                         sg.inputs.size(), sg.outputs.size(), inputs.size(), outputs.size());
    std::vector<TensorValue> values(sg.tensors.size());
    for (size_t i = 0; i < inputs.size(); ++i) {
        const auto idx = static_cast<size_t>(sg.inputs[i].value);
        if (inputs[i]->dtype() != plan.infos[idx].dtype ||
            inputs[i]->shape() != plan.infos[idx].shape)
            return strFormat("subgraph {} input {} must be {} [{}], got {} [{}]", plan.id.value, i,
                             model::dtypeName(plan.infos[idx].dtype),
                             shapeString(plan.infos[idx].shape),
                             model::dtypeName(inputs[i]->dtype()), shapeString(inputs[i]->shape()));
        values[idx] = *inputs[i];
        values[idx].setQuantization(sg.tensors[idx].quantization);
        record(plan, OpId{}, sg.inputs[i], values[idx]);
    }
    loadState(plan, values);
    auto r = runOps(plan, values, nullptr);
    saveState(plan, values);
    if (!r) return r.error().message;
    if (r->stopped_at) return strFormat("subgraph {} ('{}') {}", plan.id.value, sg.name, r->why);
    for (size_t i = 0; i < outputs.size(); ++i) {
        const auto idx = static_cast<size_t>(sg.outputs[i].value);
        const TensorValue* src = plan.constants[idx] ? plan.constants[idx].get() : &values[idx];
        if (!src->valid())
            return strFormat("subgraph {} output {} (tensor {}) was never produced", plan.id.value,
                             i, idx);
        if (src->byteSize() != outputs[i]->byteSize() || src->dtype() != outputs[i]->dtype())
            return strFormat("subgraph {} output {} is {} [{}], the caller expects {} [{}]",
                             plan.id.value, i, model::dtypeName(src->dtype()),
                             shapeString(src->shape()), model::dtypeName(outputs[i]->dtype()),
                             shapeString(outputs[i]->shape()));
        if (src->byteSize() > 0) std::memcpy(outputs[i]->raw(), src->raw(), src->byteSize());
    }
    return {};
}

Result<PreparedGraph> PreparedGraph::prepare(const model::Model& model, SubgraphId subgraph,
                                             RoundingProfile profile, bool plain) {
    if (subgraph.value < 0 || static_cast<size_t>(subgraph.value) >= model.subgraphs.size())
        return fail(strFormat("subgraph {} does not exist (the model has {})", subgraph.value,
                              model.subgraphs.size()));
    auto impl = std::make_unique<Impl>();
    impl->model = &model;
    impl->profile = profile;
    impl->plain = plain;
    impl->preparing.push_back(subgraph.value);
    auto plan = impl->preparePlan(subgraph, {});
    impl->preparing.clear();
    if (!plan) return std::unexpected(plan.error());
    impl->main = std::move(*plan);
    return PreparedGraph(std::move(impl));
}

Result<RunResult> PreparedGraph::run(std::span<const TensorValue> inputs,
                                     const RunOptions& options) {
    Impl& impl = *m_impl;
    Plan& plan = *impl.main;
    const auto& sg = *plan.sg;
    std::vector<TensorValue> seeded;
    if (inputs.empty() && !sg.inputs.empty()) {
        auto s = seededInputs(*impl.model, plan.id, options.seed);
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
    result.warnings = plan.warnings;
    impl.options = &options;
    impl.depth = 0;
    struct Unset {
        Impl& impl;
        ~Unset() { impl.options = nullptr; }
    } unset{impl};

    for (size_t i = 0; i < sg.inputs.size(); ++i) {
        const TensorId id = sg.inputs[i];
        const auto& t = sg.tensor(id);
        const auto& given = inputs[i];
        if (given.dtype() != t.dtype)
            return fail(strFormat("input {} ('{}') must be {}, got {}", i, t.name,
                                  model::dtypeName(t.dtype), model::dtypeName(given.dtype())));
        if (given.shape() != plan.infos[static_cast<size_t>(id.value)].shape)
            return fail(strFormat("input {} ('{}') must have shape [{}], got [{}]", i, t.name,
                                  shapeString(plan.infos[static_cast<size_t>(id.value)].shape),
                                  shapeString(given.shape())));
    }
    if (!options.keep_state) resetState();
    for (size_t i = 0; i < sg.inputs.size(); ++i) {
        const TensorId id = sg.inputs[i];
        auto& v = result.values[static_cast<size_t>(id.value)];
        v = inputs[i];
        v.setQuantization(sg.tensor(id).quantization);
        // An override error leaves the state as it was (nothing ran yet).
        if (options.override_value) {
            const TensorValue* o = options.override_value(id, v);
            if (o) {
                if (o->dtype() != v.dtype() || o->shape() != v.shape())
                    return fail(strFormat("override for tensor {} has {} [{}], expected {} [{}]",
                                          id.value, model::dtypeName(o->dtype()),
                                          shapeString(o->shape()), model::dtypeName(v.dtype()),
                                          shapeString(v.shape())));
                auto q = v.quantization();
                v = *o;
                v.setQuantization(std::move(q));
            }
        }
        if (options.recorder) options.recorder(OpId{}, id, v);
    }
    impl.loadState(plan, result.values);

    auto outcome = impl.runOps(plan, result.values, &result);
    Impl::saveState(plan, result.values);
    if (!outcome) return std::unexpected(outcome.error());
    result.ops_run = outcome->ops_run;
    result.cancelled = outcome->cancelled;
    if (outcome->stopped_at) {
        result.stopped_at = outcome->stopped_at;
        result.warnings.push_back(outcome->why);
    }
    if (!result.stopped_at && !result.cancelled && plan.stop) result.stopped_at = plan.stop;

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
