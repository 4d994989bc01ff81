// Runs one registered kernel on hand-made tensors: prepare, then eval, as the executor does.
// Used by the per-op kernel tests (kernels_*_test.cpp).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "engine/kernels/fold.h"
#include "engine/kernels/kernel.h"

namespace qs::engine::test {

inline model::Quantization quant(float scale, int64_t zero_point) {
    model::Quantization q;
    q.scales = {scale};
    q.zero_points = {zero_point};
    return q;
}

template <class T>
TensorValue tensor(model::DType dtype, std::vector<int32_t> shape, const std::vector<T>& values,
                   model::Quantization q = {}) {
    TensorValue v(dtype, std::move(shape));
    auto d = v.data<T>();
    EXPECT_EQ(d.size(), values.size()) << "test tensor size";
    for (size_t i = 0; i < std::min(d.size(), values.size()); ++i) d[i] = values[i];
    v.setQuantization(std::move(q));
    return v;
}

template <class T>
std::vector<T> values(const TensorValue& v) {
    auto d = v.data<T>();
    return {d.begin(), d.end()};
}

// Widened copy of int8/uint8/int16 values, so gtest prints numbers, not characters.
template <class T>
std::vector<int32_t> ints(const TensorValue& v) {
    auto d = v.data<T>();
    return {d.begin(), d.end()};
}

class OpRunner {
public:
    explicit OpRunner(model::BuiltinOp op, model::BuiltinOptions options = model::NoOptions{},
                      RoundingProfile profile = RoundingProfile::Reference)
        : m_profile(profile) {
        m_op.opcode = op;
        m_op.options = std::move(options);
    }

    // A runtime input; `constant` makes it visible to prepare (as a model constant is).
    OpRunner& input(TensorValue v, bool constant = false) {
        m_inputs.push_back({std::make_unique<TensorValue>(std::move(v)), constant});
        return *this;
    }
    OpRunner& omittedInput() {
        m_inputs.push_back({nullptr, false});
        return *this;
    }
    OpRunner& output(model::DType dtype, model::Quantization q = {}) {
        m_outputs.push_back({dtype, std::move(q)});
        return *this;
    }
    OpRunner& profile(RoundingProfile p) {
        m_profile = p;
        return *this;
    }

    // Prepared output infos of the last run (shape and, when folded, the constant).
    const std::vector<TensorInfo>& outputInfos() const { return m_out_infos; }
    // The message of EvalContext::fail in the last run (empty when eval succeeded).
    const std::string& evalError() const { return m_eval_error; }

    Result<std::vector<TensorValue>> run() {
        std::vector<TensorInfo> in_infos(m_inputs.size());
        std::vector<const TensorInfo*> ins;
        for (size_t i = 0; i < m_inputs.size(); ++i) {
            auto& [value, constant] = m_inputs[i];
            if (!value) {
                ins.push_back(nullptr);
                continue;
            }
            auto& info = in_infos[i];
            info.id = TensorId(static_cast<int32_t>(i));
            info.name = "in";
            info.dtype = value->dtype();
            info.shape = value->shape();
            info.quant = &value->quantization();
            if (constant) info.constant = value.get();
            ins.push_back(&info);
        }
        m_out_infos.assign(m_outputs.size(), {});
        std::vector<TensorInfo*> outs;
        for (size_t i = 0; i < m_outputs.size(); ++i) {
            auto& info = m_out_infos[i];
            info.id = TensorId(static_cast<int32_t>(100 + i));
            info.name = "out";
            info.dtype = m_outputs[i].first;
            info.quant = &m_outputs[i].second;
            outs.push_back(&info);
        }
        const KernelFactory factory = KernelRegistry::builtin().find(m_op.opcode);
        if (!factory) return fail("no kernel registered for " + m_op.name());
        PrepareContext pctx(m_op, OpId(0), m_profile, false, std::move(ins), outs);
        m_kernel = factory();
        if (auto r = m_kernel->prepare(pctx); !r) return std::unexpected(r.error());
        m_folded.clear();
        foldKnownOutputs(pctx, *m_kernel, m_folded);
        std::vector<const TensorValue*> in_values;
        for (auto& [value, constant] : m_inputs) in_values.push_back(value.get());
        std::vector<TensorValue> results;
        results.reserve(m_outputs.size());
        for (size_t i = 0; i < m_outputs.size(); ++i) {
            results.emplace_back(m_out_infos[i].dtype, m_out_infos[i].shape);
            results.back().setQuantization(m_outputs[i].second);
        }
        std::vector<TensorValue*> out_values;
        for (auto& r : results) out_values.push_back(&r);
        EvalContext ectx(std::move(in_values), std::move(out_values));
        m_kernel->eval(ectx);
        m_eval_error = ectx.error();
        return results;
    }

    // run() that must succeed and has one output.
    TensorValue run1() {
        auto r = run();
        if (!r) {
            ADD_FAILURE() << r.error().message;
            return {};
        }
        return std::move(r->front());
    }

private:
    model::Operator m_op;
    RoundingProfile m_profile;
    std::vector<std::pair<std::unique_ptr<TensorValue>, bool>> m_inputs;
    std::vector<std::pair<model::DType, model::Quantization>> m_outputs;
    std::vector<TensorInfo> m_out_infos;
    std::unique_ptr<Kernel> m_kernel;
    std::vector<std::unique_ptr<TensorValue>> m_folded;
    std::string m_eval_error;
};

}  // namespace qs::engine::test
