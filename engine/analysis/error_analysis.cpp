#include "engine/analysis/error_analysis.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "engine/analysis/float_twin.h"
#include "engine/executor.h"
#include "model/str_format.h"

namespace qs::engine::analysis {

namespace {

using model::BuiltinOp;
using model::DType;

// Running state of one compared tensor over the samples. With one sample (the common case:
// one input), the averaged and pooled metrics are both that sample's, so they are computed
// once, in finish(); the per-sample averagers start with the second sample.
struct Tracker {
    TensorErrors out;
    TensorAccumulator pooled;
    MetricAverager total_avg;
    std::vector<MetricAverager> channel_avg;

    void addSample(TensorAccumulator&& acc) {
        if (out.samples == 0) {
            pooled = std::move(acc);
            ++out.samples;
            return;
        }
        if (out.samples == 1) average(pooled);  // `pooled` is still the first sample alone
        average(acc);
        pooled.merge(acc);
        ++out.samples;
    }
    void finish() {
        out.channels_averaged.clear();
        out.channels_pooled.clear();
        out.pooled = finalize(pooled.total);
        out.channels_pooled.reserve(pooled.channels.size());
        for (const auto& a : pooled.channels) out.channels_pooled.push_back(finalize(a));
        if (out.samples == 1) {
            // The mean over one sample, exactly as MetricAverager computes it.
            auto once = [](const ErrorMetrics& m) {
                MetricAverager a;
                a.add(m);
                return a.mean();
            };
            out.averaged = once(out.pooled);
            out.channels_averaged.reserve(out.channels_pooled.size());
            for (const auto& m : out.channels_pooled) out.channels_averaged.push_back(once(m));
            return;
        }
        out.averaged = total_avg.mean();
        for (const auto& a : channel_avg) out.channels_averaged.push_back(a.mean());
    }

private:
    void average(const TensorAccumulator& acc) {
        total_avg.add(finalize(acc.total));
        if (channel_avg.size() < acc.channels.size()) channel_avg.resize(acc.channels.size());
        for (size_t c = 0; c < acc.channels.size(); ++c)
            channel_avg[c].add(finalize(acc.channels[c]));
    }
};

// Stored integers of a constant (int4 unpacked, sign-extended); empty for other dtypes.
std::vector<int64_t> rawConstant(const model::Tensor& t) {
    const int64_t n = t.numElements();
    std::vector<int64_t> out;
    if (static_cast<int64_t>(t.data.size()) != t.byteSize()) return out;
    const uint8_t* p = t.data.data();
    out.resize(static_cast<size_t>(n));
    auto load = [&](auto tag, int64_t i) {
        decltype(tag) v;
        std::memcpy(&v, p + i * static_cast<int64_t>(sizeof(v)), sizeof(v));
        return static_cast<int64_t>(v);
    };
    for (int64_t i = 0; i < n; ++i) {
        int64_t v = 0;
        switch (t.dtype) {
            case DType::Int8:
                v = load(int8_t{}, i);
                break;
            case DType::UInt8:
                v = load(uint8_t{}, i);
                break;
            case DType::Int16:
                v = load(int16_t{}, i);
                break;
            case DType::Int32:
                v = load(int32_t{}, i);
                break;
            case DType::Int64:
                v = load(int64_t{}, i);
                break;
            case DType::Int4: {
                const int nib = (i % 2 == 0) ? (p[i / 2] & 0x0f) : (p[i / 2] >> 4);
                v = nib >= 8 ? nib - 16 : nib;
                break;
            }
            default:
                return {};
        }
        out[static_cast<size_t>(i)] = v;
    }
    return out;
}

// Per channel of [outer, channels, inner] blocks: the smallest and largest stored integer.
// Typed loops over the file's bytes for the common dtypes (memcpy loads: a constant's bytes
// need not be aligned); false for the others (the caller unpacks them with rawConstant).
template <class T>
void typedRawRange(const uint8_t* p, int64_t outer, int64_t nch, int64_t in,
                   std::vector<int64_t>& lo, std::vector<int64_t>& hi) {
    for (int64_t c = 0; c < nch; ++c) {
        T a = std::numeric_limits<T>::max(), b = std::numeric_limits<T>::min();
        for (int64_t o = 0; o < outer; ++o) {
            const uint8_t* row = p + (o * nch + c) * in * static_cast<int64_t>(sizeof(T));
            for (int64_t k = 0; k < in; ++k) {
                T v;
                std::memcpy(&v, row + k * static_cast<int64_t>(sizeof(T)), sizeof(T));
                a = v < a ? v : a;
                b = v > b ? v : b;
            }
        }
        lo[static_cast<size_t>(c)] = a;
        hi[static_cast<size_t>(c)] = b;
    }
}
bool rawRange(const model::Tensor& t, int64_t outer, int64_t nch, int64_t in,
              std::vector<int64_t>& lo, std::vector<int64_t>& hi) {
    if (static_cast<int64_t>(t.data.size()) != t.byteSize()) return false;
    lo.assign(static_cast<size_t>(nch), INT64_MAX);
    hi.assign(static_cast<size_t>(nch), INT64_MIN);
    switch (t.dtype) {
        case DType::Int8:
            typedRawRange<int8_t>(t.data.data(), outer, nch, in, lo, hi);
            return true;
        case DType::UInt8:
            typedRawRange<uint8_t>(t.data.data(), outer, nch, in, lo, hi);
            return true;
        case DType::Int16:
            typedRawRange<int16_t>(t.data.data(), outer, nch, in, lo, hi);
            return true;
        case DType::Int32:
            typedRawRange<int32_t>(t.data.data(), outer, nch, in, lo, hi);
            return true;
        default:
            return false;
    }
}

// The output-channel axis of an op's weights when the weights are quantized per tensor.
int weightAxis(BuiltinOp op, const model::Tensor& w) {
    if (w.quantization.isPerChannel()) return channelAxis(w.shape, w.quantization);
    if (w.shape.empty()) return -1;
    if (w.shape.size() == 1) return 0;
    switch (op) {
        case BuiltinOp::CONV_2D:
        case BuiltinOp::FULLY_CONNECTED:
        case BuiltinOp::TRANSPOSE_CONV:
        case BuiltinOp::CONV_3D:
            return 0;
        default:
            return static_cast<int>(w.shape.size()) - 1;
    }
}

// True when `op` and the float op reading weights `ft` are FULLY_CONNECTED and BATCH_MATMUL
// (either way round, rhs not adjointed): the same 2-D weights are then stored transposed.
bool fcVersusMatmul(const model::Operator& op, const model::Model& float_model, TensorId ft) {
    auto kind = [](const model::Operator& o) {
        if (o.opcode == BuiltinOp::FULLY_CONNECTED) return 1;
        if (o.opcode == BuiltinOp::BATCH_MATMUL) {
            const auto* b = o.opts<model::BatchMatMulOptions>();
            return b && b->adj_y ? 0 : 2;
        }
        return 0;
    };
    const int mine = kind(op);
    if (!mine) return false;
    for (const auto& fo : float_model.main().operators) {
        if (std::find(fo.inputs.begin(), fo.inputs.end(), ft) == fo.inputs.end()) continue;
        const int theirs = kind(fo);
        return theirs && theirs != mine;
    }
    return false;
}

// True when no tensor of the main subgraph is variable or written twice (as a graph input
// and by an op, or by two ops): the value the recorder sees is then the value the run ends
// with, so another thread may read it while the run goes on.
bool writtenOnce(const model::Model& m) {
    const auto& sg = m.main();
    std::vector<char> written(sg.tensors.size(), 0);
    for (const auto& t : sg.tensors)
        if (t.is_variable) return false;
    auto mark = [&](TensorId t) {
        if (!t.valid()) return true;
        const auto i = static_cast<size_t>(t.value);
        if (i >= written.size() || written[i]) return false;
        written[i] = 1;
        return true;
    };
    for (TensorId t : sg.inputs)
        if (!mark(t)) return false;
    for (const auto& op : sg.operators)
        for (TensorId t : op.outputs)
            if (!mark(t)) return false;
    return true;
}

// Runs `other` on a second thread while this one runs `here`, and rethrows what `other` threw.
template <class Here, class Other>
void inParallel(Here&& here, Other&& other) {
    std::exception_ptr failure;
    {
        std::jthread worker([&] {
            try {
                other();
            } catch (...) {
                failure = std::current_exception();
            }
        });
        here();
    }  // joins the worker, also when `here` throws
    if (failure) std::rethrow_exception(failure);
}

}  // namespace

std::string_view errorModeName(ErrorMode m) {
    return m == ErrorMode::Local ? "local" : "accumulated";
}

std::vector<WeightReport> weightReports(const model::Model& quant, const model::Model* float_model,
                                        const TensorPairing& pairing) {
    std::vector<WeightReport> out;
    const auto& sg = quant.main();
    for (size_t oi = 0; oi < sg.operators.size(); ++oi) {
        const auto& op = sg.operators[oi];
        const model::Tensor* input = nullptr;
        const model::Tensor* weights = nullptr;
        if (!op.inputs.empty() && op.inputs[0].valid()) input = &sg.tensor(op.inputs[0]);
        for (size_t k = 0; k < op.inputs.size(); ++k) {
            const TensorId id = op.inputs[k];
            if (!id.valid()) continue;
            const auto& t = sg.tensor(id);
            if (!t.isConstant() || !model::isQuantizable(t.dtype) || !t.quantization.isQuantized())
                continue;
            WeightReport r;
            r.op = OpId(static_cast<int32_t>(oi));
            r.tensor = id;
            const bool bias = (t.dtype == DType::Int32 || t.dtype == DType::Int64) && k >= 2;
            r.role = bias ? "bias" : "weights";
            if (!bias && !weights) weights = &t;
            r.channel_axis = bias ? (t.shape.empty() ? -1 : 0) : weightAxis(op.opcode, t);
            if (!dequantizable(t)) continue;
            int64_t inner = 1, channels = 1;
            if (r.channel_axis >= 0) {
                channels = t.shape[static_cast<size_t>(r.channel_axis)];
                for (size_t d = static_cast<size_t>(r.channel_axis) + 1; d < t.shape.size(); ++d)
                    inner *= t.shape[d];
            }
            r.channels.resize(static_cast<size_t>(std::max<int64_t>(channels, 1)));
            for (size_t c = 0; c < r.channels.size(); ++c) {
                auto& ch = r.channels[c];
                const size_t qc = t.quantization.isPerChannel() ? c : 0;
                ch.scale = t.quantization.scale(qc);
                ch.zero_point = t.quantization.zeroPoint(qc);
                ch.q_min = INT64_MAX;
                ch.q_max = INT64_MIN;
            }
            // The float twin or a paired float model needs the dequantized values; the
            // statistics alone do not (below).
            std::optional<std::vector<float>> values;
            std::vector<int64_t> raw;
            auto loadValues = [&] {
                if (values) return !values->empty();
                auto v = dequantizeConstant(t);
                raw = rawConstant(t);
                values.emplace();
                if (v && raw.size() == v->size()) *values = std::move(*v);
                return !values->empty();
            };
            // [outer, channel, inner] blocks: no per-element division.
            const int64_t total = t.numElements();
            const int64_t in = r.channel_axis >= 0 ? inner : total;
            const int64_t nch = r.channel_axis >= 0 ? channels : 1;
            const int64_t outer = nch * in > 0 ? total / (nch * in) : 0;
            // With a finite nonzero scale, float(double(s) * (q - zp)) is monotone in q, so
            // the dequantized extremes are those of the stored extremes, dequantized the same
            // way (bit for bit what the element loop below finds); other scales take that loop.
            std::vector<int64_t> qlo, qhi;
            bool by_raw = rawRange(t, outer, nch, in, qlo, qhi);
            for (size_t c = 0; by_raw && c < r.channels.size(); ++c)
                by_raw = std::isfinite(r.channels[c].scale) && r.channels[c].scale != 0;
            if (by_raw) {
                for (int64_t c = 0; c < nch; ++c) {
                    auto& ch = r.channels[static_cast<size_t>(c)];
                    if (outer * in <= 0) continue;
                    const double sc = ch.scale;
                    auto deq = [&](int64_t q) {
                        return static_cast<double>(
                            static_cast<float>(sc * static_cast<double>(q - ch.zero_point)));
                    };
                    const int64_t a = qlo[static_cast<size_t>(c)], b = qhi[static_cast<size_t>(c)];
                    ch.min = sc > 0 ? deq(a) : deq(b);
                    ch.max = sc > 0 ? deq(b) : deq(a);
                    ch.absmax = std::max(std::fabs(ch.min), std::fabs(ch.max));
                    ch.q_min = a;
                    ch.q_max = b;
                }
            } else {
                if (!loadValues()) continue;
                for (int64_t c = 0; c < nch; ++c) {
                    double lo = INFINITY, hi = -INFINITY;
                    int64_t qlo = INT64_MAX, qhi = INT64_MIN;
                    for (int64_t o = 0; o < outer; ++o) {
                        const int64_t base = (o * nch + c) * in;
                        for (int64_t k = 0; k < in; ++k) {
                            const double v = (*values)[static_cast<size_t>(base + k)];
                            const int64_t rv = raw[static_cast<size_t>(base + k)];
                            lo = v < lo ? v : lo;
                            hi = v > hi ? v : hi;
                            qlo = rv < qlo ? rv : qlo;
                            qhi = rv > qhi ? rv : qhi;
                        }
                    }
                    auto& ch = r.channels[static_cast<size_t>(c)];
                    if (outer * in > 0) {
                        ch.min = lo;
                        ch.max = hi;
                        ch.absmax = std::max(std::fabs(lo), std::fabs(hi));
                        ch.q_min = qlo;
                        ch.q_max = qhi;
                    }
                }
            }
            // TFLite requires bias_scale = input_scale * filter_scale[c]
            // (tensorflow/lite/kernels/kernel_util.cc PopulateConvolutionQuantizationParams
            // checks it to within 2%); report how far off the file is.
            if (bias && input && weights && input->quantization.isQuantized() &&
                weights->quantization.isQuantized()) {
                double worst = 0;
                for (size_t c = 0; c < r.channels.size(); ++c) {
                    const size_t wc = weights->quantization.isPerChannel() ? c : 0;
                    if (wc >= weights->quantization.scales.size()) continue;
                    auto& ch = r.channels[c];
                    ch.expected_scale = static_cast<double>(input->quantization.scale()) *
                                        static_cast<double>(weights->quantization.scale(wc));
                    ch.scale_rel_diff =
                        ch.expected_scale != 0
                            ? std::fabs(ch.scale - ch.expected_scale) / ch.expected_scale
                            : kNaN;
                    worst = std::max(worst, ch.scale_rel_diff);
                }
                r.bias_scale_max_rel_diff = worst;
            }
            if (float_model && pairing.float_of.size() > static_cast<size_t>(id.value)) {
                const TensorId ft = pairing.float_of[static_cast<size_t>(id.value)];
                if (ft.valid() && loadValues()) {
                    const auto& f = float_model->main().tensor(ft);
                    auto fvals = dequantizeConstant(f);
                    if (fvals && fvals->size() == values->size()) {
                        r.float_tensor = ft;
                        if (t.shape.size() == 2 && f.shape.size() == 2 &&
                            f.shape[0] == t.shape[1] && f.shape[1] == t.shape[0] &&
                            (f.shape != t.shape || fcVersusMatmul(op, *float_model, ft))) {
                            // FULLY_CONNECTED stores [out, in], BATCH_MATMUL's rhs [in, out].
                            std::vector<float> tr(fvals->size());
                            const size_t rows = static_cast<size_t>(t.shape[0]),
                                         cols = static_cast<size_t>(t.shape[1]);
                            for (size_t a = 0; a < rows; ++a)
                                for (size_t b = 0; b < cols; ++b)
                                    tr[a * cols + b] = (*fvals)[b * rows + a];
                            *fvals = std::move(tr);
                            r.transposed = true;
                        }
                        // Per-tensor weights too are reported per output channel.
                        auto acc = compareArrays(*values, *fvals, t.shape, t.quantization, t.dtype,
                                                 raw, r.channel_axis);
                        r.error = finalize(acc.total);
                        for (const auto& a : acc.channels) r.channel_errors.push_back(finalize(a));
                    }
                }
            }
            out.push_back(std::move(r));
        }
    }
    return out;
}

Result<ErrorAnalysis> analyze(const model::Model& quant, const model::Model* float_model,
                              int sample_count, const SampleSource& source,
                              const AnalysisOptions& options) {
    if (sample_count < 1) return fail("the analysis needs at least one input sample");
    ErrorAnalysis result;
    result.mode = options.mode;
    result.profile = options.profile;
    result.paired_float_model = float_model != nullptr;

    result.pairing = float_model ? pairModels(quant, *float_model) : identityPairing(quant);

    // Preparation: the quantized graph and the weight statistics on a worker thread while this
    // one builds and prepares the reference (they read the models only). Errors are reported
    // in the order of the sequential path: the twin's, then the quantized graph's, then the
    // reference's.
    std::optional<Result<PreparedGraph>> qprep_result;
    std::vector<WeightReport> weights;
    auto prepareQuantized = [&] {
        qprep_result.emplace(
            PreparedGraph::prepare(quant, SubgraphId{0}, options.profile, options.plain));
        weights = weightReports(quant, float_model, result.pairing);
    };
    std::optional<Result<FloatTwin>> twin;
    std::optional<Result<PreparedGraph>> rprep_result;
    auto prepareReference = [&] {
        const model::Model* ref = float_model;
        if (!float_model) {
            twin.emplace(makeFloatTwin(quant));
            ref = *twin ? &(*twin)->model : nullptr;
        }
        if (ref)
            rprep_result.emplace(PreparedGraph::prepare(*ref, SubgraphId{0},
                                                        RoundingProfile::Reference, options.plain));
    };
    if (options.threads > 1) {
        inParallel(prepareReference, prepareQuantized);
    } else {
        prepareReference();
        prepareQuantized();
    }
    if (twin && !*twin) return std::unexpected(twin->error());
    if (!*qprep_result) return std::unexpected(qprep_result->error());
    if (!*rprep_result) return std::unexpected(rprep_result->error());
    const model::Model* ref = twin ? &(*twin)->model : float_model;
    if (twin)
        for (const auto& n : (*twin)->notes) result.warnings.push_back("float twin: " + n);
    auto& qprep = *qprep_result;
    auto& rprep = *rprep_result;
    const auto& qsg = quant.main();
    const auto& rsg = ref->main();

    for (const auto& w : qprep->warnings()) result.warnings.push_back("quantized engine: " + w);
    for (const auto& w : rprep->warnings()) result.warnings.push_back("float reference: " + w);

    // The compared tensors: graph inputs, then op outputs in execution order.
    std::vector<Tracker> trackers;
    std::vector<int> tracker_of(qsg.tensors.size(), -1);
    const auto producers = qsg.producers();
    auto track = [&](TensorId t) {
        const auto i = static_cast<size_t>(t.value);
        if (tracker_of[i] >= 0 || !carriesValues(qsg.tensors[i])) return;
        const TensorId r = result.pairing.float_of[i];
        if (!r.valid()) return;
        Tracker tr;
        tr.out.tensor = t;
        tr.out.reference_tensor = r;
        tr.out.pairing = result.pairing.method[i];
        tr.out.producer = producers[i];
        tr.out.channel_axis = channelAxis(qsg.tensors[i].shape, qsg.tensors[i].quantization);
        tracker_of[i] = static_cast<int>(trackers.size());
        trackers.push_back(std::move(tr));
    };
    for (TensorId t : qsg.inputs) track(t);
    for (const auto& op : qsg.operators)
        for (TensorId t : op.outputs) track(t);

    // Reference input k is fed from the sample of the quantized input paired with it.
    std::vector<size_t> ref_input_source(rsg.inputs.size());
    for (size_t k = 0; k < rsg.inputs.size(); ++k) {
        ref_input_source[k] = k;
        for (size_t i = 0; i < qsg.inputs.size(); ++i)
            if (result.pairing.float_of[static_cast<size_t>(qsg.inputs[i].value)] == rsg.inputs[k])
                ref_input_source[k] = i;
    }
    // Reference tensor -> quantized partner, for the local mode's overrides.
    std::vector<TensorId> quant_of(rsg.tensors.size());
    for (size_t i = 0; i < result.pairing.float_of.size(); ++i) {
        const TensorId r = result.pairing.float_of[i];
        if (r.valid() && !quant_of[static_cast<size_t>(r.value)].valid() &&
            !qsg.tensors[i].isConstant())
            quant_of[static_cast<size_t>(r.value)] = TensorId(static_cast<int32_t>(i));
    }

    // Reference tensor -> the trackers comparing against it (accumulated mode), as ranges
    // [start[r], start[r + 1]) of trackers_of_ref.
    std::vector<int> trackers_of_ref_start(rsg.tensors.size() + 1, 0), trackers_of_ref;
    for (const auto& tr : trackers)
        ++trackers_of_ref_start[static_cast<size_t>(tr.out.reference_tensor.value) + 1];
    for (size_t r = 1; r < trackers_of_ref_start.size(); ++r)
        trackers_of_ref_start[r] += trackers_of_ref_start[r - 1];
    trackers_of_ref.resize(trackers.size());
    {
        std::vector<int> fill(trackers_of_ref_start.begin(), trackers_of_ref_start.end() - 1);
        for (size_t ti = 0; ti < trackers.size(); ++ti)
            trackers_of_ref[static_cast<size_t>(
                fill[static_cast<size_t>(trackers[ti].out.reference_tensor.value)]++)] =
                static_cast<int>(ti);
    }

    const bool written_once = writtenOnce(quant) && writtenOnce(*ref);
    const bool threaded = options.threads > 1 && written_once;
    // keep_sample0: the runs' values are the compared ones when every tensor is written once;
    // otherwise (state tensors) the compared values are copied as they are compared.
    const bool keep_sample0 = options.keep_sample0 && options.mode == ErrorMode::Accumulated;
    if (keep_sample0 && !written_once) {
        result.sample0_quant.resize(qsg.tensors.size());
        result.sample0_reference.resize(rsg.tensors.size());
    }
    for (int s = 0; s < sample_count; ++s) {
        auto given = source(s);
        if (!given) return std::unexpected(given.error());
        if (given->size() != qsg.inputs.size())
            return fail(strFormat("sample {} has {} inputs, the model takes {}", s, given->size(),
                                  qsg.inputs.size()));
        std::vector<TensorValue> qin, rin;
        std::vector<model::Quantization> given_quant(given->size());
        for (size_t i = 0; i < given->size(); ++i) {
            const auto& target = qsg.tensor(qsg.inputs[i]);
            if ((*given)[i].dtype() == target.dtype) given_quant[i] = target.quantization;
            auto v = adaptInput((*given)[i], given_quant[i], target);
            if (!v) return fail(strFormat("sample {} input {}: {}", s, i, v.error().message));
            qin.push_back(std::move(*v));
        }
        for (size_t k = 0; k < rsg.inputs.size(); ++k) {
            const size_t i = ref_input_source[k];
            if (i >= given->size())
                return fail("the float model has more inputs than the quantized one");
            auto v = adaptInput((*given)[i], given_quant[i], rsg.tensor(rsg.inputs[k]));
            if (!v)
                return fail(
                    strFormat("sample {} input {} (float reference): {}", s, i, v.error().message));
            rin.push_back(std::move(*v));
        }

        RunOptions qopt;
        qopt.profile = options.profile;
        qopt.plain = options.plain;
        RunOptions ropt;
        ropt.plain = options.plain;
        // Sample 0's quantized run reports its ops; a false answer cancels it, and the
        // reference run with it.
        std::atomic<bool> quant_cancelled = false;
        if (s == 0 && options.op_progress) {
            qopt.progress = [&](int done, int total) {
                if (options.op_progress(done, total)) return true;
                quant_cancelled = true;
                return false;
            };
            ropt.progress = [&](int, int) { return !quant_cancelled.load(); };
        }
        const bool accumulated = options.mode == ErrorMode::Accumulated;

        std::vector<std::optional<TensorAccumulator>> sample_acc(trackers.size());
        // A failed comparison, and the order in which the reference asked for each one: the
        // first failure in that order is reported, whichever thread met it.
        std::vector<std::optional<Error>> sample_err(trackers.size());
        std::vector<int> order(trackers.size(), std::numeric_limits<int>::max());
        int next_order = 0;  // reference thread only
        std::mutex observe_mutex;
        auto compare = [&](size_t ti, const TensorValue& qv, const TensorValue& reference) {
            const TensorId qt = trackers[ti].out.tensor;
            if (!qv.valid() || reference.dtype() != DType::Float32) return;
            auto acc = compareTensor(qv, qsg.tensor(qt).quantization, reference);
            if (!acc) {
                sample_err[ti] = Error{strFormat("tensor {} '{}': {}", qt.value,
                                                 qsg.tensor(qt).name, acc.error().message)};
                return;
            }
            sample_acc[ti] = std::move(*acc);
            if (options.observe || (s == 0 && keep_sample0 && !written_once)) {
                std::lock_guard lock(observe_mutex);
                if (options.observe) options.observe(s, qt, qv, reference);
                if (s == 0 && keep_sample0 && !written_once) {
                    result.sample0_quant[static_cast<size_t>(qt.value)] = qv;
                    result.sample0_reference[static_cast<size_t>(
                        trackers[ti].out.reference_tensor.value)] = reference;
                }
            }
        };

        // Threaded: the quantized engine runs on a worker thread and publishes each tensor as
        // it is produced; the reference runs here. The two share only read-only models.
        // Accumulated: a pair whose two values both exist goes to `work`, which the worker
        // drains once its run is over and this thread once the reference's is.
        // Local: the reference's override waits until the quantized partner exists.
        struct Item {
            size_t tracker;
            const TensorValue* quant;
            const TensorValue* reference;
        };
        std::mutex mutex;
        std::condition_variable changed;
        std::vector<const TensorValue*> quant_ready, ref_ready;
        std::deque<Item> work;
        bool quant_done = false, ref_done = false;
        if (threaded) {
            quant_ready.assign(qsg.tensors.size(), nullptr);
            ref_ready.assign(rsg.tensors.size(), nullptr);
            // The recorded value stays where it is until the run's RunResult is destroyed
            // (written once, see writtenOnce; moving the RunResult keeps the elements).
            qopt.recorder = [&](OpId, TensorId qt, const TensorValue& qv) {
                {
                    std::lock_guard lock(mutex);
                    const auto q = static_cast<size_t>(qt.value);
                    quant_ready[q] = &qv;
                    const int ti = tracker_of[q];
                    if (accumulated && ti >= 0) {
                        const auto r = static_cast<size_t>(
                            trackers[static_cast<size_t>(ti)].out.reference_tensor.value);
                        if (ref_ready[r])
                            work.push_back({static_cast<size_t>(ti), &qv, ref_ready[r]});
                    }
                }
                changed.notify_all();
            };
        }
        auto drain = [&] {
            std::unique_lock lock(mutex);
            for (;;) {
                changed.wait(lock, [&] { return !work.empty() || (quant_done && ref_done); });
                if (work.empty()) return;
                const Item item = work.front();
                work.pop_front();
                lock.unlock();
                compare(item.tracker, *item.quant, *item.reference);
                lock.lock();
            }
        };
        // The quantized value of `qt` (invalid if the quantized run never produced it).
        const TensorValue kNone;
        std::optional<Result<RunResult>> qres;
        auto quantValue = [&](TensorId qt) -> const TensorValue& {
            const auto q = static_cast<size_t>(qt.value);
            if (!threaded) return (*qres)->values[q];
            std::unique_lock lock(mutex);
            changed.wait(lock, [&] { return quant_ready[q] || quant_done; });
            return quant_ready[q] ? *quant_ready[q] : kNone;
        };

        if (accumulated) {
            // Each reference tensor is compared as soon as it exists, while its bytes are still
            // in cache (a float activation of mobilenet_v2 is up to 4.8 MB).
            ropt.recorder = [&](OpId, TensorId rt, const TensorValue& rv) {
                const auto r = static_cast<size_t>(rt.value);
                if (r + 1 >= trackers_of_ref_start.size()) return;
                if (!threaded) {
                    for (int k = trackers_of_ref_start[r]; k < trackers_of_ref_start[r + 1]; ++k) {
                        const auto ti =
                            static_cast<size_t>(trackers_of_ref[static_cast<size_t>(k)]);
                        order[ti] = next_order++;
                        compare(ti,
                                (*qres)->values[static_cast<size_t>(trackers[ti].out.tensor.value)],
                                rv);
                    }
                    return;
                }
                {
                    std::lock_guard lock(mutex);
                    ref_ready[r] = &rv;
                    for (int k = trackers_of_ref_start[r]; k < trackers_of_ref_start[r + 1]; ++k) {
                        const auto ti =
                            static_cast<size_t>(trackers_of_ref[static_cast<size_t>(k)]);
                        order[ti] = next_order++;
                        const auto q = static_cast<size_t>(trackers[ti].out.tensor.value);
                        if (quant_ready[q]) work.push_back({ti, quant_ready[q], &rv});
                    }
                }
                changed.notify_all();
            };
        }
        std::vector<TensorValue> replacements;
        if (!accumulated) {
            replacements.resize(rsg.tensors.size());
            ropt.override_value = [&](TensorId rt,
                                      const TensorValue& computed) -> const TensorValue* {
                const TensorId qt = quant_of[static_cast<size_t>(rt.value)];
                if (!qt.valid()) return nullptr;
                const TensorValue& qv = quantValue(qt);
                const int ti = tracker_of[static_cast<size_t>(qt.value)];
                if (ti >= 0) {
                    order[static_cast<size_t>(ti)] = next_order++;
                    compare(static_cast<size_t>(ti), qv, computed);
                }
                if (!qv.valid() || computed.dtype() != DType::Float32 ||
                    qv.numElements() != computed.numElements())
                    return nullptr;
                const auto& qtensor = qsg.tensor(qt);
                const bool is_int =
                    model::isQuantizable(qv.dtype()) && qtensor.quantization.isQuantized();
                if (!is_int && qv.dtype() != DType::Float32 && qv.dtype() != DType::Float16)
                    return nullptr;
                auto deq =
                    dequantizeValue(qv, is_int ? qtensor.quantization : model::Quantization{});
                if (!deq) return nullptr;
                if (deq->shape() != computed.shape()) deq->reshape(computed.shape());
                replacements[static_cast<size_t>(rt.value)] = std::move(*deq);
                return &replacements[static_cast<size_t>(rt.value)];
            };
        }

        std::optional<Result<RunResult>> rres;
        if (!threaded) {
            qres.emplace(qprep->run(qin, qopt));
            if (!*qres) return std::unexpected(qres->error());
            if (!(*qres)->cancelled) rres.emplace(rprep->run(rin, ropt));
        } else {
            // Marks a run over when it ends, also by an exception, so the other thread's drain
            // ends and the join in inParallel cannot hang.
            struct MarkDone {
                std::mutex& m;
                std::condition_variable& cv;
                bool& done;
                ~MarkDone() {
                    {
                        std::lock_guard lock(m);
                        done = true;
                    }
                    cv.notify_all();
                }
            };
            inParallel(
                [&] {
                    {
                        MarkDone mark{mutex, changed, ref_done};
                        rres.emplace(rprep->run(rin, ropt));
                    }
                    if (accumulated) drain();
                },
                [&] {
                    {
                        MarkDone mark{mutex, changed, quant_done};
                        auto r = qprep->run(qin, qopt);
                        std::lock_guard lock(mutex);
                        qres.emplace(std::move(r));
                    }
                    if (accumulated) drain();
                });
            if (!*qres) return std::unexpected(qres->error());
        }
        if (s == 0) {
            const RunResult& q = **qres;
            auto& run = result.quantized_run;
            run.ops_total = q.ops_total;
            run.ops_run = q.ops_run;
            run.stopped_at = q.stopped_at;
            run.warnings = q.warnings;
            run.produced.assign(q.values.size(), 0);
            for (size_t i = 0; i < q.values.size(); ++i) run.produced[i] = q.values[i].valid();
        }
        if ((*qres)->cancelled) {
            result.cancelled = true;  // this sample's comparisons are incomplete: dropped
            break;
        }
        if (!*rres)
            return fail(strFormat("{}: {}", float_model ? "float model" : "float twin",
                                  rres->error().message));
        {
            const Error* first = nullptr;
            int first_order = std::numeric_limits<int>::max();
            for (size_t ti = 0; ti < trackers.size(); ++ti)
                if (sample_err[ti] && (!first || order[ti] < first_order)) {
                    first = &*sample_err[ti];
                    first_order = order[ti];
                }
            if (first) return std::unexpected(*first);
        }

        if (s == 0) {
            for (const auto& w : (*qres)->warnings)
                if (std::find(result.warnings.begin(), result.warnings.end(),
                              "quantized engine: " + w) == result.warnings.end())
                    result.warnings.push_back("quantized engine: " + w);
            for (const auto& w : (*rres)->warnings)
                if (std::find(result.warnings.begin(), result.warnings.end(),
                              "float reference: " + w) == result.warnings.end())
                    result.warnings.push_back("float reference: " + w);
        }
        if (s == 0 && keep_sample0 && written_once) {
            result.sample0_quant = std::move((*qres)->values);
            result.sample0_reference = std::move((*rres)->values);
        }
        for (size_t ti = 0; ti < trackers.size(); ++ti)
            if (sample_acc[ti]) trackers[ti].addSample(std::move(*sample_acc[ti]));
        ++result.samples;
        if (options.progress && !options.progress(s + 1, sample_count)) {
            result.cancelled = true;
            break;
        }
    }
    // The metrics of every channel: with two threads, each finishes about half the channels.
    auto finishRange = [&](size_t from, size_t to) {
        for (size_t i = from; i < to; ++i)
            if (trackers[i].out.samples > 0) trackers[i].finish();
    };
    size_t split = trackers.size();
    if (options.threads > 1) {
        size_t total = 0, half = 0;
        for (const auto& tr : trackers) total += tr.pooled.channels.size() + 1;
        for (split = 0; split < trackers.size() && half < total / 2; ++split)
            half += trackers[split].pooled.channels.size() + 1;
    }
    if (split < trackers.size())
        inParallel([&] { finishRange(0, split); }, [&] { finishRange(split, trackers.size()); });
    else
        finishRange(0, trackers.size());
    for (auto& tr : trackers)
        if (tr.out.samples > 0) result.tensors.push_back(std::move(tr.out));
    result.weights = std::move(weights);
    return result;
}

}  // namespace qs::engine::analysis
