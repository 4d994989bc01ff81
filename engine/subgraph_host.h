// What the control-flow kernels (IF, WHILE, CALL_ONCE; kernels/control_flow.cpp) need from
// the executor: other subgraphs of the model, prepared once, and a way to invoke them.
//
// TFLite's control-flow kernels resize the callee's input tensors to the caller's shapes and
// allocate the callee in their own Prepare (tensorflow/lite/kernels/if.cc, while.cc); the
// host does the same: a body is prepared for one set of input shapes, and prepared again only
// for a different set.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "engine/kernels/kernel.h"

namespace qs::engine {

// A prepared callee: its handle for invoke() and its input/output tensors as prepared.
struct PreparedBody {
    int handle = -1;
    int32_t subgraph = -1;
    std::vector<TensorInfo> inputs, outputs;
};

class SubgraphHost {
public:
    virtual ~SubgraphHost() = default;

    // Prepares `subgraph` with its inputs taking the dtypes and shapes of `inputs` (in order;
    // the count must match the callee's inputs). Fails when the callee cannot run (an op
    // without a kernel, a rejected op, recursion) or an input dtype differs.
    virtual Result<PreparedBody> prepareBody(int32_t subgraph,
                                             std::span<const TensorInfo* const> inputs) = 0;

    // Runs a prepared body on `inputs` (prepared dtypes and shapes) and copies its outputs to
    // `outputs` (allocated with the prepared shapes). Returns "" on success, otherwise why the
    // body stopped (for EvalContext::fail).
    virtual std::string invokeBody(const PreparedBody& body,
                                   std::span<const TensorValue* const> inputs,
                                   std::span<TensorValue* const> outputs) = 0;

    // Upper bound on WHILE iterations per op evaluation (RunOptions::max_while_iterations).
    virtual int64_t maxWhileIterations() const = 0;
};

}  // namespace qs::engine
