#include "engine/trace/profile_diff.h"

#include <cmath>
#include <cstring>

#include "model/str_format.h"

namespace qs::engine::trace {

namespace {

using model::DType;

template <class T>
void diffTyped(const TensorValue& a, const TensorValue& b, TensorDiff& d) {
    const auto x = a.data<T>();
    const auto y = b.data<T>();
    for (size_t i = 0; i < x.size(); ++i) {
        double delta = 0.0;
        if constexpr (std::is_floating_point_v<T>) {
            if (std::isnan(x[i]) && std::isnan(y[i])) continue;
            if (x[i] == y[i]) continue;
            delta = static_cast<double>(y[i]) - static_cast<double>(x[i]);
            if (std::isnan(delta)) delta = std::numeric_limits<double>::infinity();
        } else {
            if (x[i] == y[i]) continue;
            delta = static_cast<double>(y[i]) - static_cast<double>(x[i]);
        }
        d.delta[i] = static_cast<float>(delta);
        d.indices.push_back(static_cast<int64_t>(i));
        d.max_abs = std::max(d.max_abs, std::fabs(delta));
        ++d.histogram[diffBucket(std::fabs(delta))];
    }
    d.differing = static_cast<int64_t>(d.indices.size());
}

}  // namespace

size_t diffBucket(double abs_delta) {
    if (abs_delta <= 1.0) return 0;
    if (abs_delta <= 2.0) return 1;
    if (abs_delta <= 4.0) return 2;
    if (abs_delta <= 8.0) return 3;
    if (abs_delta <= 16.0) return 4;
    return 5;
}

Result<TensorDiff> diffTensor(const TensorValue& a, const TensorValue& b) {
    if (!a.valid() || !b.valid()) return fail("a tensor value is missing");
    if (a.dtype() != b.dtype())
        return fail(strFormat("dtypes differ ({} vs {})", model::dtypeName(a.dtype()),
                              model::dtypeName(b.dtype())));
    if (a.shape() != b.shape())
        return fail(strFormat("shapes differ ([{}] vs [{}])", shapeString(a.shape()),
                              shapeString(b.shape())));
    TensorDiff d;
    d.shape = a.shape();
    d.elements = a.numElements();
    d.delta.assign(static_cast<size_t>(d.elements), 0.0f);
    switch (a.dtype()) {
        case DType::Int8:
            diffTyped<int8_t>(a, b, d);
            break;
        case DType::UInt8:
        case DType::Bool:
            diffTyped<uint8_t>(a, b, d);
            break;
        case DType::Int16:
            diffTyped<int16_t>(a, b, d);
            break;
        case DType::Int32:
            diffTyped<int32_t>(a, b, d);
            break;
        case DType::Int64:
            diffTyped<int64_t>(a, b, d);
            break;
        case DType::Float32:
            diffTyped<float>(a, b, d);
            break;
        default:
            if (!a.sameContents(b))
                return fail(strFormat("dtype {} is not compared element-wise",
                                      model::dtypeName(a.dtype())));
            break;
    }
    return d;
}

RunDiff compareRuns(const model::Model& model, SubgraphId subgraph, const RunResult& a,
                    const RunResult& b) {
    RunDiff out;
    const auto& sg = model.subgraphs[static_cast<size_t>(subgraph.value)];
    auto get = [](const RunResult& r, TensorId id) -> const TensorValue* {
        if (static_cast<size_t>(id.value) >= r.values.size()) return nullptr;
        const auto& v = r.values[static_cast<size_t>(id.value)];
        return v.valid() ? &v : nullptr;
    };
    for (size_t i = 0; i < sg.operators.size(); ++i) {
        const auto& op = sg.operators[i];
        for (TensorId id : op.outputs) {
            if (!id.valid()) continue;
            LayerDiff l;
            l.op = OpId{static_cast<int32_t>(i)};
            l.op_name = op.name();
            l.tensor = id;
            l.tensor_name = sg.tensor(id).name;
            l.dtype = sg.tensor(id).dtype;
            const TensorValue* va = get(a, id);
            const TensorValue* vb = get(b, id);
            if (va && vb) {
                if (auto d = diffTensor(*va, *vb)) {
                    l.compared = true;
                    l.elements = d->elements;
                    l.differing = d->differing;
                    l.max_abs = d->max_abs;
                    l.histogram = d->histogram;
                    out.total_compared += l.elements;
                    out.total_differing += l.differing;
                    if (l.differing > 0 && !out.first_differing)
                        out.first_differing = out.layers.size();
                }
            }
            out.layers.push_back(std::move(l));
        }
    }
    return out;
}

Result<ProfileComparison> compareProfiles(const model::Model& model, SubgraphId subgraph,
                                          std::span<const TensorValue> inputs, RoundingProfile a,
                                          RoundingProfile b, uint64_t seed,
                                          const std::function<bool(int, int)>& progress) {
    ProfileComparison c;
    c.a = a;
    c.b = b;
    for (int k = 0; k < 2; ++k) {
        RunOptions o;
        o.profile = k == 0 ? a : b;
        o.seed = seed;
        o.keep_values = true;
        if (progress)
            o.progress = [&progress, k](int done, int total) {
                return progress(k * total + done, 2 * total);
            };
        auto r = run(model, subgraph, inputs, o);
        if (!r) return std::unexpected(r.error());
        (k == 0 ? c.run_a : c.run_b) = std::move(*r);
        if ((k == 0 ? c.run_a : c.run_b).cancelled) {
            c.cancelled = true;
            return c;
        }
    }
    c.diff = compareRuns(model, subgraph, c.run_a, c.run_b);
    return c;
}

}  // namespace qs::engine::trace
