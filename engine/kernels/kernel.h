// The kernel interface. One Kernel object exists per operator of a prepared graph:
//   prepare(PrepareContext&)  validates inputs/options, computes output shapes and every
//                             multiplier/shift/table the op needs (TFLM's Prepare);
//   eval(EvalContext&)        only computes, reading inputs and writing preallocated outputs.
//
// Adding a kernel (see kernels/kernel_list.h):
//   1. write engine/kernels/<family>.cpp with a Kernel subclass per op and a function
//      `void registerKernels_<family>(KernelRegistry& r)` that calls
//      r.add(model::BuiltinOp::X, &makeKernel<MyKernel>);
//   2. add QS_KERNEL_FAMILY(<family>) to kernels/kernel_list.h and the .cpp to
//      engine/CMakeLists.txt;
//   3. add a rule-table row (profiles/rule_table.cpp) for each dtype the op requantizes.
//
// Hybrid (dynamic-range) ops: FULLY_CONNECTED / CONV_2D / DEPTHWISE_CONV_2D whose input 0 is
// float32 and whose weights (input 1) are a constant int8 tensor run a different algorithm
// (run-time input quantization, see kernels/hybrid.h). Their kernels live in a second
// registry, KernelRegistry::hybrid(), filled by registerHybridKernels() in hybrid.cpp; the
// executor consults it first for such ops and falls back to builtin() otherwise.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "engine/profiles/profile.h"
#include "engine/profiles/requantize.h"
#include "engine/tensor_value.h"
#include "model/error.h"
#include "model/model.h"

namespace qs::engine {

class SubgraphHost;  // engine/subgraph_host.h: lets IF/WHILE/CALL_ONCE run other subgraphs

// What prepare knows about one tensor before any data exists.
struct TensorInfo {
    TensorId id;
    std::string_view name;
    model::DType dtype = model::DType::Float32;
    std::vector<int32_t> shape;                  // runtime shape
    const model::Quantization* quant = nullptr;  // never null inside a context
    const TensorValue* constant = nullptr;       // the data, for constant tensors only
    // The IR tensor (sparsity, is_variable); null only for tensors made up outside a model.
    const model::Tensor* model_tensor = nullptr;

    bool isConstant() const { return constant != nullptr; }
    // TFLite's is_variable (LSTM/SVDF state): persistent, updated in place by the op.
    bool isVariable() const { return model_tensor && model_tensor->is_variable; }
    float scale(size_t c = 0) const { return quant->scale(c); }
    int32_t zeroPoint(size_t c = 0) const { return static_cast<int32_t>(quant->zeroPoint(c)); }
    int rank() const { return static_cast<int>(shape.size()); }
    int32_t dim(int i) const { return shape[static_cast<size_t>(i)]; }
    int64_t numElements() const { return shapeElements(shape); }
};

class PrepareContext {
public:
    PrepareContext(const model::Operator& op, OpId op_id, RoundingProfile profile, bool plain,
                   std::vector<const TensorInfo*> inputs, std::vector<TensorInfo*> outputs)
        : m_op(op),
          m_op_id(op_id),
          m_profile(profile),
          m_plain(plain),
          m_inputs(std::move(inputs)),
          m_outputs(std::move(outputs)) {}

    const model::Operator& op() const { return m_op; }
    OpId opId() const { return m_op_id; }
    RoundingProfile profile() const { return m_profile; }
    // True when the plain reference loops were requested instead of the fast paths.
    bool plain() const { return m_plain; }
    // The requantization rule of this op for the given activation dtype under the profile.
    RequantRule rule(model::DType activation) const;

    int numInputs() const { return static_cast<int>(m_inputs.size()); }
    // nullptr for an omitted optional input or an index past the end.
    const TensorInfo* input(int i) const {
        return i < numInputs() ? m_inputs[static_cast<size_t>(i)] : nullptr;
    }
    int numOutputs() const { return static_cast<int>(m_outputs.size()); }
    // dtype and quantization come from the model; prepare must set the shape.
    TensorInfo& output(int i) { return *m_outputs[static_cast<size_t>(i)]; }

    template <class T>
    const T* options() const {
        return m_op.opts<T>();
    }

    // An error naming this op ("op 12 (CONV_2D): <message>").
    std::unexpected<Error> fail(std::string message) const;

    // The executor's access to the model's other subgraphs (control-flow ops); null when the
    // op is prepared outside an executor.
    SubgraphHost* subgraphHost() const { return m_host; }
    void setSubgraphHost(SubgraphHost* host) { m_host = host; }

    // The op's intermediate tensors (model::Operator::intermediates: the integer LSTM's gate
    // and hidden scales); nullptr past the end or when the executor did not set them.
    int numIntermediates() const { return static_cast<int>(m_intermediates.size()); }
    const TensorInfo* intermediate(int i) const {
        return i < numIntermediates() ? m_intermediates[static_cast<size_t>(i)] : nullptr;
    }
    void setIntermediates(std::vector<const TensorInfo*> t) { m_intermediates = std::move(t); }

private:
    const model::Operator& m_op;
    OpId m_op_id;
    RoundingProfile m_profile;
    bool m_plain;
    std::vector<const TensorInfo*> m_inputs;
    std::vector<TensorInfo*> m_outputs;
    SubgraphHost* m_host = nullptr;
    std::vector<const TensorInfo*> m_intermediates;
};

class EvalContext {
public:
    EvalContext(std::vector<const TensorValue*> inputs, std::vector<TensorValue*> outputs)
        : m_inputs(std::move(inputs)), m_outputs(std::move(outputs)) {}
    bool hasInput(int i) const {
        return i < static_cast<int>(m_inputs.size()) && m_inputs[static_cast<size_t>(i)];
    }
    const TensorValue& input(int i) const { return *m_inputs[static_cast<size_t>(i)]; }
    // Allocated with the prepared shape, the model's dtype and quantization; zero-filled
    // unless the kernel says it writes every element (Kernel::writesWholeOutputs).
    TensorValue& output(int i) { return *m_outputs[static_cast<size_t>(i)]; }
    int numInputs() const { return static_cast<int>(m_inputs.size()); }
    int numOutputs() const { return static_cast<int>(m_outputs.size()); }

    // Input i when it is a variable tensor (TFLite's is_variable: SVDF/LSTM state) that the op
    // updates in place; null for other inputs and when the op runs outside an executor.
    TensorValue* variable(int i) const {
        return i < static_cast<int>(m_variables.size()) ? m_variables[static_cast<size_t>(i)]
                                                        : nullptr;
    }
    void setVariables(std::vector<TensorValue*> variables) { m_variables = std::move(variables); }

    // For what only the data can reveal (a runtime shape tensor that disagrees with the
    // prepared shape, a WHILE that never ends): the executor stops the run after this op
    // with the message as a warning, and the op's outputs are not reported.
    void fail(std::string message) { m_error = std::move(message); }
    const std::string& error() const { return m_error; }
    bool failed() const { return !m_error.empty(); }

private:
    std::vector<const TensorValue*> m_inputs;
    std::vector<TensorValue*> m_outputs;
    std::vector<TensorValue*> m_variables;
    std::string m_error;
};

class Kernel {
public:
    virtual ~Kernel() = default;
    virtual Result<void> prepare(PrepareContext& ctx) = 0;
    virtual void eval(EvalContext& ctx) = 0;
    // True when eval writes every element of every output on every path (plain and fast),
    // so the executor may hand it uninitialized outputs instead of zero-filled ones.
    virtual bool writesWholeOutputs() const { return false; }
};

using KernelFactory = std::unique_ptr<Kernel> (*)();

template <class K>
std::unique_ptr<Kernel> makeKernel() {
    return std::make_unique<K>();
}

class KernelRegistry {
public:
    void add(model::BuiltinOp op, KernelFactory factory);
    // nullptr when no kernel is registered for the op.
    KernelFactory find(model::BuiltinOp op) const;
    std::vector<model::BuiltinOp> ops() const;
    // Custom ops (BuiltinOp::CUSTOM) by their custom code, e.g. "TFLite_Detection_PostProcess".
    void addCustom(std::string code, KernelFactory factory);
    KernelFactory findCustom(std::string_view code) const;
    std::vector<std::string> customOps() const;
    // The registry with every kernel family of kernels/kernel_list.h.
    static const KernelRegistry& builtin();
    // Kernels for hybrid ops (float input, constant int8 weights); see the top comment.
    static const KernelRegistry& hybrid();

private:
    std::vector<std::pair<model::BuiltinOp, KernelFactory>> m_entries;
    std::vector<std::pair<std::string, KernelFactory>> m_custom;
};

}  // namespace qs::engine
