// Runs a subgraph of a loaded model op by op and hands every produced tensor to the caller.
// IF / WHILE / CALL_ONCE run the subgraphs they name (each prepared once, see
// subgraph_host.h); the recorder reports the run subgraph's tensors, body_recorder the
// callees'.
//
//   auto result = qs::engine::run(model, qs::SubgraphId{0}, inputs, options);
//
// Every op is prepared first (validated, multipliers/shifts and output shapes computed), then
// evaluated in order. An op the engine has no kernel for (or a custom op, or one whose
// prepare rejects it) stops the run there: everything upstream stays in RunResult::values,
// RunResult::stopped_at names the op and a warning says why. Only invalid inputs are errors.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/profiles/profile.h"
#include "engine/tensor_value.h"
#include "model/error.h"
#include "model/model.h"

namespace qs::engine {

struct RunOptions {
    RoundingProfile profile = RoundingProfile::Reference;
    // Plain reference loops instead of the fast paths (the fast paths give identical integer
    // results; float results may differ in summation order).
    bool plain = false;
    // Seed for the inputs not given (see input_fill.h); used when `inputs` is empty.
    uint64_t seed = 0;
    // Called for each graph input (op invalid) and each op output as soon as it exists.
    std::function<void(OpId op, TensorId tensor, const TensorValue& value)> recorder;
    // Called after each op with (ops done, ops total); return false to cancel.
    std::function<bool(int done, int total)> progress;
    // Optional: sees each tensor right after it is produced (graph inputs: before the first
    // op) and may replace it: return nullptr to keep the computed value. Used to run ops in
    // isolation on golden inputs and for what-if analysis. dtype and shape must match. The
    // recorder then receives the replacement.
    std::function<const TensorValue*(TensorId tensor, const TensorValue& computed)> override_value;
    // Keep every computed tensor in RunResult::values (otherwise only graph outputs).
    bool keep_values = true;
    // Variable tensors (TFLite's is_variable: SVDF/LSTM state). false: every run starts from
    // zero state, as the conformance oracles do. true: a PreparedGraph's run starts from the
    // state its previous run left (streaming audio models); the first run starts from zero.
    bool keep_state = false;
    // Like `recorder`, for tensors of the subgraphs that IF/WHILE/CALL_ONCE run (`subgraph`
    // is the callee; op is the callee's op, invalid for the callee's inputs).
    std::function<void(SubgraphId subgraph, OpId op, TensorId tensor, const TensorValue& value)>
        body_recorder;
    // A WHILE op that iterates more often stops the run with a warning (TFLite has no limit;
    // a desktop tool must not hang on a loop whose condition never turns false).
    int64_t max_while_iterations = int64_t{1} << 24;
};

struct RunResult {
    // Indexed by tensor index; valid() is false for tensors not computed (constants, ops
    // after a stop, or dropped when keep_values is false).
    std::vector<TensorValue> values;
    int ops_total = 0;
    int ops_run = 0;                 // ops evaluated, in execution order
    std::optional<OpId> stopped_at;  // the op that could not run
    bool cancelled = false;
    std::vector<std::string> warnings;

    bool complete() const { return !stopped_at && !cancelled; }
};

class PreparedGraph;

// Validates the inputs (one per subgraph input, in order, matching dtype and shape; empty
// means "fill all with options.seed"), prepares and runs.
Result<RunResult> run(const model::Model& model, SubgraphId subgraph,
                      std::span<const TensorValue> inputs, const RunOptions& options);

// The same in two steps, for repeated runs (benchmarks): prepare once, run many times.
// The model must outlive the PreparedGraph.
class PreparedGraph {
public:
    static Result<PreparedGraph> prepare(const model::Model& model, SubgraphId subgraph,
                                         RoundingProfile profile, bool plain);
    PreparedGraph(PreparedGraph&&) noexcept;
    PreparedGraph& operator=(PreparedGraph&&) noexcept;
    ~PreparedGraph();

    // Inputs as for run(); profile and plain of `options` are ignored (fixed at prepare).
    Result<RunResult> run(std::span<const TensorValue> inputs, const RunOptions& options);
    // The op where preparation stopped (no kernel or rejected), if any, and why.
    std::optional<OpId> stopsAt() const;
    // Zeroes the variable tensors kept for RunOptions::keep_state.
    void resetState();
    const std::vector<std::string>& warnings() const;

private:
    struct Impl;
    explicit PreparedGraph(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

// Inputs for every subgraph input: the seeded fill.
Result<std::vector<TensorValue>> seededInputs(const model::Model& model, SubgraphId subgraph,
                                              uint64_t seed);

}  // namespace qs::engine
