// IF, WHILE and CALL_ONCE: ops that run other subgraphs of the model through the executor's
// SubgraphHost (engine/subgraph_host.h). Callees are prepared in the op's prepare with the
// caller's input shapes, as TFLite's kernels do; only static shapes are supported (TFLite
// falls back to dynamic tensors, which the engine's prepare-time allocation cannot express).
#include <algorithm>
#include <cstring>

#include "engine/kernels/kernel.h"
#include "engine/subgraph_host.h"
#include "model/str_format.h"

namespace qs::engine {

namespace {

std::vector<const TensorInfo*> inputsFrom(const PrepareContext& ctx, int first) {
    std::vector<const TensorInfo*> out;
    for (int i = first; i < ctx.numInputs(); ++i) out.push_back(ctx.input(i));
    return out;
}

// Field names follow TfLiteIfParams (tensorflow/lite/core/c/builtin_op_data.h).
struct IfParams {
    int32_t then_subgraph_index = -1;
    int32_t else_subgraph_index = -1;
};

// tensorflow/lite/kernels/if.cc: input 0 is a one-element bool condition, inputs 1.. go to
// the branch's inputs, the branch's outputs are copied to the op's outputs.
class IfKernel final : public Kernel {
public:
    Result<void> prepare(PrepareContext& ctx) override {
        const auto* o = ctx.options<model::IfOptions>();
        if (!o) return ctx.fail("missing IfOptions");
        m_params.then_subgraph_index = o->then_subgraph_index;
        m_params.else_subgraph_index = o->else_subgraph_index;
        m_host = ctx.subgraphHost();
        if (!m_host) return ctx.fail("runs subgraphs, which needs the executor");
        const TensorInfo* cond = ctx.input(0);
        if (!cond) return ctx.fail("needs a condition input");
        // if.cc: "Currently only bool is supported" and NumElements(cond) == 1.
        if (cond->dtype != model::DType::Bool || cond->numElements() != 1)
            return ctx.fail(strFormat("condition must be one bool, got {} [{}]",
                                      model::dtypeName(cond->dtype), shapeString(cond->shape)));
        const auto ins = inputsFrom(ctx, 1);
        for (const TensorInfo* t : ins)
            if (!t) return ctx.fail("an omitted branch input is not supported");
        auto branch = [&](int32_t s, PreparedBody& out) -> Result<void> {
            auto body = m_host->prepareBody(s, ins);
            if (!body) return ctx.fail(body.error().message);
            if (static_cast<int>(body->outputs.size()) != ctx.numOutputs())
                return ctx.fail(strFormat("subgraph {} has {} outputs, the op {}", s,
                                          body->outputs.size(), ctx.numOutputs()));
            out = std::move(*body);
            return {};
        };
        if (auto r = branch(m_params.then_subgraph_index, m_then); !r) return r;
        if (auto r = branch(m_params.else_subgraph_index, m_else); !r) return r;
        for (int i = 0; i < ctx.numOutputs(); ++i) {
            const TensorInfo& a = m_then.outputs[static_cast<size_t>(i)];
            const TensorInfo& b = m_else.outputs[static_cast<size_t>(i)];
            // if.cc makes the outputs dynamic when the branches' shapes differ.
            if (a.shape != b.shape)
                return ctx.fail(
                    strFormat("the branches give output {} the shapes [{}] and [{}]; "
                              "dynamic output shapes are not supported",
                              i, shapeString(a.shape), shapeString(b.shape)));
            if (a.dtype != ctx.output(i).dtype || b.dtype != ctx.output(i).dtype)
                return ctx.fail(strFormat("output {} is {}, the branches give {} and {}", i,
                                          model::dtypeName(ctx.output(i).dtype),
                                          model::dtypeName(a.dtype), model::dtypeName(b.dtype)));
            ctx.output(i).shape = a.shape;
        }
        return {};
    }

    void eval(EvalContext& ctx) override {
        const bool cond = ctx.input(0).data<uint8_t>()[0] != 0;
        std::vector<const TensorValue*> ins;
        for (int i = 1; i < ctx.numInputs(); ++i) ins.push_back(&ctx.input(i));
        std::vector<TensorValue*> outs;
        for (int i = 0; i < ctx.numOutputs(); ++i) outs.push_back(&ctx.output(i));
        std::string err = m_host->invokeBody(cond ? m_then : m_else, ins, outs);
        if (!err.empty()) ctx.fail(std::move(err));
    }

private:
    IfParams m_params;
    SubgraphHost* m_host = nullptr;
    PreparedBody m_then, m_else;
};

// Field names follow TfLiteWhileParams.
struct WhileParams {
    int32_t cond_subgraph_index = -1;
    int32_t body_subgraph_index = -1;
};

// tensorflow/lite/kernels/while.cc: the inputs are the loop-carried values; the condition
// subgraph maps them to one bool, the body maps them to their next values; the op's outputs
// are the values when the condition turns false (the inputs when it is false at once).
class WhileKernel final : public Kernel {
public:
    Result<void> prepare(PrepareContext& ctx) override {
        const auto* o = ctx.options<model::WhileOptions>();
        if (!o) return ctx.fail("missing WhileOptions");
        m_params.cond_subgraph_index = o->cond_subgraph_index;
        m_params.body_subgraph_index = o->body_subgraph_index;
        m_host = ctx.subgraphHost();
        if (!m_host) return ctx.fail("runs subgraphs, which needs the executor");
        if (ctx.numInputs() != ctx.numOutputs())
            return ctx.fail(strFormat("has {} inputs and {} outputs; they must pair up",
                                      ctx.numInputs(), ctx.numOutputs()));
        const auto ins = inputsFrom(ctx, 0);
        for (const TensorInfo* t : ins)
            if (!t) return ctx.fail("an omitted loop input is not supported");
        auto cond = m_host->prepareBody(m_params.cond_subgraph_index, ins);
        if (!cond) return ctx.fail(cond.error().message);
        if (cond->outputs.size() != 1 || cond->outputs[0].dtype != model::DType::Bool ||
            cond->outputs[0].numElements() != 1)
            return ctx.fail(strFormat("condition subgraph {} must output one bool",
                                      m_params.cond_subgraph_index));
        auto body = m_host->prepareBody(m_params.body_subgraph_index, ins);
        if (!body) return ctx.fail(body.error().message);
        if (static_cast<int>(body->outputs.size()) != ctx.numInputs())
            return ctx.fail(strFormat("body subgraph {} has {} outputs for {} loop values",
                                      m_params.body_subgraph_index, body->outputs.size(),
                                      ctx.numInputs()));
        for (int i = 0; i < ctx.numInputs(); ++i) {
            const TensorInfo& next = body->outputs[static_cast<size_t>(i)];
            const TensorInfo& in = *ins[static_cast<size_t>(i)];
            // while.cc turns such outputs dynamic and re-prepares the body every iteration.
            if (next.shape != in.shape)
                return ctx.fail(
                    strFormat("the body changes loop value {} from [{}] to [{}]; "
                              "shapes that change across iterations are not "
                              "supported",
                              i, shapeString(in.shape), shapeString(next.shape)));
            if (next.dtype != in.dtype || ctx.output(i).dtype != in.dtype)
                return ctx.fail(strFormat("loop value {} is {} but the body gives {}", i,
                                          model::dtypeName(in.dtype),
                                          model::dtypeName(next.dtype)));
            ctx.output(i).shape = in.shape;
        }
        m_cond = std::move(*cond);
        m_body = std::move(*body);
        return {};
    }

    void eval(EvalContext& ctx) override {
        // The loop values live in the op's outputs; the body writes into a second set that
        // is swapped in after each iteration.
        const int n = ctx.numInputs();
        std::vector<TensorValue> next;
        for (int i = 0; i < n; ++i) {
            TensorValue& o = ctx.output(i);
            std::memcpy(o.raw(), ctx.input(i).raw(), o.byteSize());
            next.emplace_back(o.dtype(), o.shape());
        }
        TensorValue cond_out(model::DType::Bool, m_cond.outputs[0].shape);
        const int64_t limit = m_host->maxWhileIterations();
        for (int64_t iter = 0;; ++iter) {
            std::vector<const TensorValue*> cur;
            for (int i = 0; i < n; ++i) cur.push_back(&ctx.output(i));
            TensorValue* cond_ptr = &cond_out;
            std::string err = m_host->invokeBody(m_cond, cur, std::span(&cond_ptr, 1));
            if (!err.empty()) return ctx.fail(std::move(err));
            if (cond_out.data<uint8_t>()[0] == 0) return;
            if (iter >= limit)
                return ctx.fail(strFormat("the loop did not end after {} iterations", limit));
            std::vector<TensorValue*> outs;
            for (auto& v : next) outs.push_back(&v);
            err = m_host->invokeBody(m_body, cur, outs);
            if (!err.empty()) return ctx.fail(std::move(err));
            for (int i = 0; i < n; ++i)
                std::memcpy(ctx.output(i).raw(), next[static_cast<size_t>(i)].raw(),
                            ctx.output(i).byteSize());
        }
    }

private:
    WhileParams m_params;
    SubgraphHost* m_host = nullptr;
    PreparedBody m_cond, m_body;
};

// Field names follow TfLiteCallOnceParams.
struct CallOnceParams {
    int32_t init_subgraph_index = -1;
};

// tensorflow/lite/kernels/call_once.cc: runs the init subgraph (no inputs, no outputs) on the
// first invocation only; later invocations do nothing. Here "first" is per PreparedGraph:
// the kernel object lives as long as the prepared graph.
class CallOnceKernel final : public Kernel {
public:
    Result<void> prepare(PrepareContext& ctx) override {
        const auto* o = ctx.options<model::CallOnceOptions>();
        if (!o) return ctx.fail("missing CallOnceOptions");
        m_params.init_subgraph_index = o->init_subgraph_index;
        m_host = ctx.subgraphHost();
        if (!m_host) return ctx.fail("runs subgraphs, which needs the executor");
        if (ctx.numInputs() != 0 || ctx.numOutputs() != 0)
            return ctx.fail("must have no inputs and no outputs");
        auto body = m_host->prepareBody(m_params.init_subgraph_index, {});
        if (!body) return ctx.fail(body.error().message);
        // call_once.cc: the init subgraph must have no inputs and no outputs.
        if (!body->inputs.empty() || !body->outputs.empty())
            return ctx.fail(strFormat("init subgraph {} must have no inputs and no outputs",
                                      m_params.init_subgraph_index));
        m_body = std::move(*body);
        return {};
    }

    void eval(EvalContext& ctx) override {
        if (m_done) return;
        std::string err = m_host->invokeBody(m_body, {}, {});
        if (!err.empty()) return ctx.fail(std::move(err));
        m_done = true;
    }

private:
    CallOnceParams m_params;
    SubgraphHost* m_host = nullptr;
    PreparedBody m_body;
    bool m_done = false;
};

}  // namespace

void registerKernels_control_flow(KernelRegistry& r) {
    r.add(model::BuiltinOp::IF, &makeKernel<IfKernel>);
    r.add(model::BuiltinOp::WHILE, &makeKernel<WhileKernel>);
    r.add(model::BuiltinOp::CALL_ONCE, &makeKernel<CallOnceKernel>);
}

}  // namespace qs::engine
