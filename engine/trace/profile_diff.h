// Profile difference data: which elements of a tensor differ between two runs (two rounding
// profiles), and per op how many, so the GUI can draw a difference heatmap and show how a
// one-step difference grows downstream. Plain data, no Qt.
//
//   auto a = qs::engine::run(model, SubgraphId{0}, inputs, {.profile = Reference});
//   auto b = qs::engine::run(model, SubgraphId{0}, inputs, {.profile = Xnnpack});
//   auto d = qs::engine::trace::compareRuns(model, SubgraphId{0}, *a, *b);
//   d.layers[k].differing ...; auto map = diffTensor(a->values[t], b->values[t]);
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/executor.h"
#include "engine/profiles/profile.h"
#include "engine/tensor_value.h"
#include "model/error.h"
#include "model/model.h"

namespace qs::engine::trace {

// Buckets of |b - a| for the "how does a one-step difference grow" view: counts of
// differing elements with |delta| = 1, 2, 3-4, 5-8, 9-16, > 16 (integer steps; floats use the
// same edges on the value difference, so nearly all land in bucket 0).
inline constexpr size_t kDiffBuckets = 6;
size_t diffBucket(double abs_delta);

// Element-wise difference of two values of one tensor (same dtype and shape).
struct TensorDiff {
    std::vector<int32_t> shape;
    int64_t elements = 0;
    int64_t differing = 0;
    double max_abs = 0.0;  // integer tensors: in stored steps; float: in value units
    // b - a per element (0 where equal), row-major; for integer tensors exact integers.
    // Floats compare bitwise-equal NaNs as equal (as the conformance diffs do).
    std::vector<float> delta;
    // Flat indices of the differing elements, ascending.
    std::vector<int64_t> indices;
    std::array<int64_t, kDiffBuckets> histogram{};
};

// Errors when dtype or shape differ, or a value is missing.
Result<TensorDiff> diffTensor(const TensorValue& a, const TensorValue& b);

// One op output in execution order.
struct LayerDiff {
    OpId op;
    std::string op_name;
    TensorId tensor;
    std::string tensor_name;
    model::DType dtype = model::DType::Int8;
    int64_t elements = 0;
    int64_t differing = 0;
    double max_abs = 0.0;
    std::array<int64_t, kDiffBuckets> histogram{};
    bool compared = false;  // false when either run lacks the tensor (stopped, not kept)
};

struct RunDiff {
    std::vector<LayerDiff> layers;          // every op output of the subgraph, execution order
    std::optional<size_t> first_differing;  // index into layers
    int64_t total_differing = 0;
    int64_t total_compared = 0;
};

// Compares every op output of `subgraph` present in both runs (RunResult::values, so the runs
// need keep_values).
RunDiff compareRuns(const model::Model& model, SubgraphId subgraph, const RunResult& a,
                    const RunResult& b);

// Runs the model under both profiles on the same inputs (empty: the seeded fill with `seed`)
// and compares them. The runs are returned too, for diffTensor and traceElement.
// `progress` (optional) gets (ops done, ops total) over both runs; returning false cancels:
// the result then has `cancelled` set and no diff.
struct ProfileComparison {
    RoundingProfile a = RoundingProfile::Reference, b = RoundingProfile::Xnnpack;
    RunResult run_a, run_b;
    RunDiff diff;
    bool cancelled = false;
};
Result<ProfileComparison> compareProfiles(const model::Model& model, SubgraphId subgraph,
                                          std::span<const TensorValue> inputs, RoundingProfile a,
                                          RoundingProfile b, uint64_t seed = 0,
                                          const std::function<bool(int, int)>& progress = {});

}  // namespace qs::engine::trace
