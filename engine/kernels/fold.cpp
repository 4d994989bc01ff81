#include "engine/kernels/fold.h"

namespace qs::engine {

bool foldKnownOutputs(PrepareContext& ctx, Kernel& kernel,
                      std::vector<std::unique_ptr<TensorValue>>& storage) {
    bool all_published = ctx.numOutputs() > 0;
    for (int i = 0; i < ctx.numOutputs(); ++i)
        all_published = all_published && ctx.output(i).isConstant();
    if (all_published) return true;
    std::vector<const TensorValue*> ins;
    for (int i = 0; i < ctx.numInputs(); ++i) {
        const TensorInfo* t = ctx.input(i);
        if (!t) {
            ins.push_back(nullptr);
            continue;
        }
        if (!t->isConstant()) return false;
        ins.push_back(t->constant);
    }
    if (ctx.numOutputs() == 0) return false;
    for (int i = 0; i < ctx.numOutputs(); ++i) {
        const TensorInfo& o = ctx.output(i);
        if (o.numElements() > kMaxFoldElements || dtypeSize(o.dtype) == 0) return false;
    }
    std::vector<TensorValue*> outs;
    const size_t first = storage.size();
    for (int i = 0; i < ctx.numOutputs(); ++i) {
        auto v = std::make_unique<TensorValue>(ctx.output(i).dtype, ctx.output(i).shape);
        v->setQuantization(*ctx.output(i).quant);
        outs.push_back(v.get());
        storage.push_back(std::move(v));
    }
    EvalContext ectx(std::move(ins), std::move(outs));
    kernel.eval(ectx);
    if (ectx.failed()) {  // a data-only error: leave it to the run
        storage.resize(first);
        return false;
    }
    for (int i = 0; i < ctx.numOutputs(); ++i)
        ctx.output(i).constant = storage[first + static_cast<size_t>(i)].get();
    return true;
}

}  // namespace qs::engine
