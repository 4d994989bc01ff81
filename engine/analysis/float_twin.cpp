#include "engine/analysis/float_twin.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <string_view>
#include <variant>

#include "model/str_format.h"

namespace qs::engine::analysis {

namespace {

using model::DType;

// Owns the dequantized constants and keeps the source model's bytes alive (its other
// constants, metadata and custom options still point into them).
class TwinStorage final : public model::ModelStorage {
public:
    explicit TwinStorage(std::shared_ptr<const model::ModelStorage> base)
        : m_base(std::move(base)) {}
    std::span<const uint8_t> bytes() const override {
        return m_base ? m_base->bytes() : std::span<const uint8_t>{};
    }
    // The returned span stays valid for the storage's lifetime: each block is its own heap
    // allocation, which moving the outer vector does not touch.
    std::span<const uint8_t> keep(std::vector<float> values) {
        m_blocks.push_back(std::move(values));
        const auto& b = m_blocks.back();
        return {reinterpret_cast<const uint8_t*>(b.data()), b.size() * sizeof(float)};
    }

private:
    std::shared_ptr<const model::ModelStorage> m_base;
    std::vector<std::vector<float>> m_blocks;
};

// Legacy (TOCO) quantized models fold a ReLU / ReLU6 that follows an op into the op's output
// quantization range instead of setting its fused activation: the op says NONE, but the range
// [(qmin - zp) * s, (qmax - zp) * s] is exactly [0, 6] (mobilenet_v1_0.25_224_quant: every
// CONV_2D / DEPTHWISE_CONV_2D output is "…/Relu6" with zp 0, scale 6/255). The integer model
// clamps there by construction; a float twin without the clamp drifts by whole units
// (Conv2d_0 reaches -12.4 where the quantized tensor cannot go below 0) and the comparison
// measures a different network. So the twin applies the activation the range implies:
// RELU6 when the range is [0, 6] within half a step, RELU when the range starts at 0 and the
// tensor's name says Relu. Anything else is left as is, so genuine clipping stays visible.
model::Activation impliedActivation(const model::Tensor& out) {
    const auto& q = out.quantization;
    if (q.scales.size() != 1 || q.zero_points.size() != 1) return model::Activation::None;
    int64_t qmin = 0, qmax = 0;
    switch (out.dtype) {
        case DType::Int8:
            qmin = -128, qmax = 127;
            break;
        case DType::UInt8:
            qmin = 0, qmax = 255;
            break;
        case DType::Int16:
            qmin = -32768, qmax = 32767;
            break;
        default:
            return model::Activation::None;
    }
    if (q.zero_points[0] != qmin || !(q.scales[0] > 0.0f)) return model::Activation::None;
    const double scale = q.scales[0];
    const double hi = static_cast<double>(qmax - qmin) * scale;
    if (std::abs(hi - 6.0) <= scale / 2) return model::Activation::Relu6;
    const auto slash = out.name.rfind('/');
    const std::string_view last =
        std::string_view(out.name).substr(slash == std::string::npos ? 0 : slash + 1);
    if (last.starts_with("Relu") || last.starts_with("relu")) return model::Activation::Relu;
    return model::Activation::None;
}

template <class T>
T loadLE(const uint8_t* p) {
    T v;
    std::memcpy(&v, p, sizeof(T));
    return v;
}

// Index of the channel element i belongs to, for a tensor of `shape` quantized along `axis`.
struct ChannelIndexer {
    int64_t inner = 1, size = 1;
    bool per_channel = false;
    ChannelIndexer(std::span<const int32_t> shape, const model::Quantization& q) {
        per_channel = q.isPerChannel() && q.quantized_dimension >= 0 &&
                      static_cast<size_t>(q.quantized_dimension) < shape.size();
        if (!per_channel) return;
        size = shape[static_cast<size_t>(q.quantized_dimension)];
        for (size_t d = static_cast<size_t>(q.quantized_dimension) + 1; d < shape.size(); ++d)
            inner *= shape[d];
    }
    size_t operator()(int64_t i) const {
        return per_channel ? static_cast<size_t>((i / inner) % size) : 0;
    }
    // n elements as [outer, channels, inner] blocks (per tensor: one channel of all n).
    struct Blocks {
        int64_t outer, channels, inner;
    };
    Blocks blocks(int64_t n) const {
        const int64_t channels = per_channel ? size : 1;
        const int64_t in = per_channel ? inner : n;
        return {channels * in > 0 ? n / (channels * in) : 0, channels, in};
    }
};

// reference/dequantize.h: float(double(scale) * (q - zero_point)). Elements are visited as
// [outer, channel, inner] blocks so no index is divided per element.
// Writes n values to `dst`.
template <class Get>
void dequantizeWith(int64_t n, std::span<const int32_t> shape, const model::Quantization& q,
                    Get get, float* dst) {
    const auto [outer, channels, inner] = ChannelIndexer(shape, q).blocks(n);
    std::vector<double> scale(static_cast<size_t>(channels));
    std::vector<int64_t> zp(static_cast<size_t>(channels));
    for (int64_t c = 0; c < channels; ++c) {
        scale[static_cast<size_t>(c)] = q.scale(static_cast<size_t>(c));
        zp[static_cast<size_t>(c)] = q.zeroPoint(static_cast<size_t>(c));
    }
    for (int64_t o = 0; o < outer; ++o) {
        for (int64_t c = 0; c < channels; ++c) {
            const double s = scale[static_cast<size_t>(c)];
            const int64_t z = zp[static_cast<size_t>(c)];
            const int64_t base = (o * channels + c) * inner;
            for (int64_t k = 0; k < inner; ++k)
                dst[base + k] = static_cast<float>(s * static_cast<double>(get(base + k) - z));
        }
    }
}
template <class Get>
std::vector<float> dequantizeWith(int64_t n, std::span<const int32_t> shape,
                                  const model::Quantization& q, Get get) {
    std::vector<float> out(static_cast<size_t>(n));
    dequantizeWith(n, shape, q, get, out.data());
    return out;
}

// 8-bit values. The scale is a float (the .tflite stores float32 scales) and |q - zp| < 2^24,
// so the double product scale * (q - zp) is exact (24-bit times 25-bit significands) and
// rounding it to float is one float multiply, float(scale) * float(q - zp): the same bits as
// dequantizeWith's formula, in a loop the compiler vectorizes (16 floats per AVX-512 op).
// Channels along the last axis (inner 1: depthwise weights, NHWC activations) vectorize
// across the channels; otherwise along each channel's inner run. Zero points beyond 2^23 take
// dequantizeWith.
template <class T>
void dequantizeBytes(int64_t n, std::span<const int32_t> shape, const model::Quantization& q,
                     const T* __restrict src, float* __restrict out) {
    const auto [outer, channels, inner] = ChannelIndexer(shape, q).blocks(n);
    std::vector<float> scale(static_cast<size_t>(channels));
    std::vector<int32_t> zp(static_cast<size_t>(channels));
    for (int64_t c = 0; c < channels; ++c) {
        const int64_t z = q.zeroPoint(static_cast<size_t>(c));
        if (z < -(int64_t{1} << 23) || z > (int64_t{1} << 23))
            return dequantizeWith(
                n, shape, q, [&](int64_t i) { return int64_t{src[i]}; }, out);
        scale[static_cast<size_t>(c)] = q.scale(static_cast<size_t>(c));
        zp[static_cast<size_t>(c)] = static_cast<int32_t>(z);
    }
    const float* __restrict sc = scale.data();
    const int32_t* __restrict zc = zp.data();
    for (int64_t o = 0; o < outer; ++o) {
        if (inner == 1) {
            const T* row = src + o * channels;
            float* dst = out + o * channels;
            for (int64_t c = 0; c < channels; ++c)
                dst[c] = sc[c] * static_cast<float>(static_cast<int32_t>(row[c]) - zc[c]);
            continue;
        }
        for (int64_t c = 0; c < channels; ++c) {
            const float s = sc[c];
            const int32_t z = zc[c];
            const int64_t base = (o * channels + c) * inner;
            for (int64_t k = 0; k < inner; ++k)
                out[base + k] = s * static_cast<float>(static_cast<int32_t>(src[base + k]) - z);
        }
    }
}
template <class T>
std::vector<float> dequantizeBytes(int64_t n, std::span<const int32_t> shape,
                                   const model::Quantization& q, const T* src) {
    std::vector<float> out(static_cast<size_t>(n));
    dequantizeBytes(n, shape, q, src, out.data());
    return out;
}

}  // namespace

Result<void> checkChannels(std::span<const int32_t> shape, const model::Quantization& q,
                           const std::string& what) {
    if (!q.isQuantized()) return fail(what + " has no quantization parameters");
    if (q.hasCustomDetails)
        return fail(what + " uses custom quantization details, which cannot be dequantized");
    if (q.isPerChannel()) {
        const auto axis = q.quantized_dimension;
        if (axis < 0 || static_cast<size_t>(axis) >= shape.size() ||
            static_cast<size_t>(shape[static_cast<size_t>(axis)]) != q.scales.size())
            return fail(
                strFormat("{} has {} scales, which do not fit quantized_dimension {} of "
                          "shape [{}]",
                          what, q.scales.size(), axis, shapeString(shape)));
    }
    return {};
}

float halfToFloat(uint16_t h) {
    const uint32_t sign = uint32_t{h & 0x8000u} << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t mant = h & 0x3ffu;
    uint32_t bits;
    if (exp == 0) {
        if (mant == 0) {
            bits = sign;
        } else {  // subnormal half: normalize into a normal float
            exp = 127 - 15 + 1;
            while (!(mant & 0x400u)) {
                mant <<= 1;
                --exp;
            }
            bits = sign | (exp << 23) | ((mant & 0x3ffu) << 13);
        }
    } else if (exp == 0x1f) {
        bits = sign | 0x7f800000u | (mant << 13);
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
    }
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

bool twinConverts(const model::Tensor& t) {
    if (t.dtype == DType::Float16) return true;
    return model::isQuantizable(t.dtype) && t.quantization.isQuantized();
}

namespace {

// What dequantizeConstant rejects, before any work.
Result<void> checkConstant(const model::Tensor& t, const std::string& what) {
    if (!t.isConstant()) return fail(what + " is not a constant");
    if (t.sparsity) return fail(what + " is sparse; densify it first");
    if (t.byteSize() != static_cast<int64_t>(t.data.size()))
        return fail(strFormat("{} holds {} bytes, expected {}", what, t.data.size(), t.byteSize()));
    switch (t.dtype) {
        case DType::Float32:
        case DType::Float16:
            return {};
        case DType::Int8:
        case DType::UInt8:
        case DType::Int16:
        case DType::Int32:
        case DType::Int64:
        case DType::Int4:
            return checkChannels(t.shape, t.quantization, what);
        default:
            return fail(strFormat("{}: cannot dequantize {}", what, model::dtypeName(t.dtype)));
    }
}

}  // namespace

bool dequantizable(const model::Tensor& t) {
    return checkConstant(t, {}).has_value();
}

Result<std::vector<float>> dequantizeConstant(const model::Tensor& t) {
    const std::string what = strFormat("tensor '{}'", t.name);
    if (auto c = checkConstant(t, what); !c) return std::unexpected(c.error());
    const int64_t n = t.numElements();
    const uint8_t* p = t.data.data();
    switch (t.dtype) {
        case DType::Float32: {
            std::vector<float> out(static_cast<size_t>(n));
            std::memcpy(out.data(), p, out.size() * sizeof(float));
            return out;
        }
        case DType::Float16: {
            std::vector<float> out(static_cast<size_t>(n));
            for (int64_t i = 0; i < n; ++i)
                out[static_cast<size_t>(i)] = halfToFloat(loadLE<uint16_t>(p + 2 * i));
            return out;
        }
        default:
            break;
    }
    switch (t.dtype) {
        case DType::Int8:
            return dequantizeBytes(n, t.shape, t.quantization, reinterpret_cast<const int8_t*>(p));
        case DType::UInt8:
            return dequantizeBytes(n, t.shape, t.quantization, p);
        case DType::Int16:
            return dequantizeWith(n, t.shape, t.quantization,
                                  [&](int64_t i) { return int64_t{loadLE<int16_t>(p + 2 * i)}; });
        case DType::Int32:
            return dequantizeWith(n, t.shape, t.quantization,
                                  [&](int64_t i) { return int64_t{loadLE<int32_t>(p + 4 * i)}; });
        case DType::Int64:
            return dequantizeWith(n, t.shape, t.quantization,
                                  [&](int64_t i) { return loadLE<int64_t>(p + 8 * i); });
        case DType::Int4:
            // Two values per byte, the first in the low nibble, each sign-extended
            // (tensorflow/lite/kernels/internal/portable_tensor_utils.cc
            // UnpackDenseInt4IntoInt8).
            return dequantizeWith(n, t.shape, t.quantization, [&](int64_t i) {
                const uint8_t byte = p[i / 2];
                const int nibble = (i % 2 == 0) ? (byte & 0x0f) : (byte >> 4);
                return int64_t{nibble >= 8 ? nibble - 16 : nibble};
            });
        default:
            return fail(strFormat("{}: cannot dequantize {}", what, model::dtypeName(t.dtype)));
    }
}

Result<TensorValue> dequantizeValue(const TensorValue& v, const model::Quantization& q) {
    if (v.dtype() == DType::Float32) return v;
    // Every path below writes all n elements (or fails).
    TensorValue out(DType::Float32, v.shape(), TensorValue::Uninitialized{});
    auto dst = out.data<float>();
    const int64_t n = v.numElements();
    switch (v.dtype()) {
        case DType::Float16: {
            auto src = v.data<uint16_t>();
            for (int64_t i = 0; i < n; ++i)
                dst[static_cast<size_t>(i)] = halfToFloat(src[static_cast<size_t>(i)]);
            return out;
        }
        default:
            break;
    }
    if (auto c = checkChannels(v.shape(), q, "value"); !c) return std::unexpected(c.error());
    auto fill = [&](auto src) {
        dequantizeWith(
            n, v.shape(), q, [&](int64_t i) { return int64_t{src[static_cast<size_t>(i)]}; },
            dst.data());
    };
    switch (v.dtype()) {
        case DType::Int8:
            dequantizeBytes(n, v.shape(), q, v.data<int8_t>().data(), dst.data());
            break;
        case DType::UInt8:
            dequantizeBytes(n, v.shape(), q, v.data<uint8_t>().data(), dst.data());
            break;
        case DType::Int16:
            fill(v.data<int16_t>());
            break;
        case DType::Int32:
            fill(v.data<int32_t>());
            break;
        case DType::Int64:
            fill(v.data<int64_t>());
            break;
        default:
            return fail(strFormat("cannot dequantize a {} value", model::dtypeName(v.dtype())));
    }
    return out;
}

Result<TensorValue> quantizeValue(const TensorValue& value, DType dtype,
                                  const model::Quantization& q) {
    if (value.dtype() != DType::Float32) return fail("only float32 data can be quantized");
    if (!q.isQuantized() || q.isPerChannel())
        return fail("quantizing needs per-tensor quantization parameters");
    TensorValue out(dtype, value.shape());
    const float scale = q.scale();
    const auto zp = static_cast<int32_t>(q.zeroPoint());
    auto src = value.data<float>();
    auto put = [&](auto dst, int32_t lo, int32_t hi) {
        for (size_t i = 0; i < src.size(); ++i) {
            const int32_t v = static_cast<int32_t>(std::round(src[i] / scale)) + zp;
            dst[i] = static_cast<typename decltype(dst)::value_type>(std::clamp(v, lo, hi));
        }
    };
    switch (dtype) {
        case DType::Int8:
            put(out.data<int8_t>(), -128, 127);
            break;
        case DType::UInt8:
            put(out.data<uint8_t>(), 0, 255);
            break;
        case DType::Int16:
            put(out.data<int16_t>(), -32768, 32767);
            break;
        default:
            return fail(strFormat("cannot quantize float32 data to {}", model::dtypeName(dtype)));
    }
    return out;
}

Result<TensorValue> adaptInput(const TensorValue& given, const model::Quantization& given_quant,
                               const model::Tensor& target) {
    if (given.dtype() == target.dtype) return given;
    if (target.dtype == DType::Float32 && given_quant.isQuantized())
        return dequantizeValue(given, given_quant);
    if (given.dtype() == DType::Float32 && target.quantization.isQuantized())
        return quantizeValue(given, target.dtype, target.quantization);
    return fail(strFormat("a {} value cannot feed input '{}' ({})", model::dtypeName(given.dtype()),
                          target.name, model::dtypeName(target.dtype)));
}

Result<FloatTwin> makeFloatTwin(const model::Model& source) {
    FloatTwin twin;
    twin.model = source;
    auto storage = std::make_shared<TwinStorage>(source.storage);
    for (size_t s = 0; s < twin.model.subgraphs.size(); ++s) {
        auto& sg = twin.model.subgraphs[s];
        for (size_t i = 0; i < sg.tensors.size(); ++i) {
            auto& t = sg.tensors[i];
            if (!twinConverts(t)) continue;
            if (t.isConstant()) {
                auto values = dequantizeConstant(t);
                if (!values) {
                    twin.notes.push_back(strFormat("subgraph {} tensor {}: {}; left as {}", s, i,
                                                   values.error().message,
                                                   model::dtypeName(t.dtype)));
                    continue;
                }
                t.data = storage->keep(std::move(*values));
                ++twin.dequantized_constants;
            } else {
                ++twin.converted_activations;
            }
            t.dtype = DType::Float32;
            t.quantization = model::Quantization{};
        }
        const auto& source_sg = source.subgraphs[s];
        std::string implied_ops;
        for (size_t o = 0; o < sg.operators.size(); ++o) {
            auto& op = sg.operators[o];
            if (op.outputs.size() != 1 || !op.outputs[0].valid()) continue;
            const auto implied = impliedActivation(source_sg.tensor(op.outputs[0]));
            if (implied == model::Activation::None) continue;
            std::visit(
                [&](auto& opts) {
                    if constexpr (requires { opts.fused_activation_function; }) {
                        if (opts.fused_activation_function != model::Activation::None) return;
                        opts.fused_activation_function = implied;
                        implied_ops += strFormat("{}{} {}", implied_ops.empty() ? "" : ", ", o,
                                                 model::activationName(implied));
                        ++twin.implied_activations;
                    }
                },
                op.options);
        }
        if (!implied_ops.empty())
            twin.notes.push_back(strFormat(
                "subgraph {}: fused activations implied by output ranges that legacy converters "
                "folded them into, applied in float (op {})",
                s, implied_ops));
        for (auto& op : sg.operators) {
            if (op.opcode != model::BuiltinOp::QUANTIZE &&
                op.opcode != model::BuiltinOp::DEQUANTIZE)
                continue;
            if (op.inputs.empty() || op.outputs.empty() || !op.inputs[0].valid()) continue;
            if (sg.tensor(op.inputs[0]).dtype != DType::Float32 ||
                sg.tensor(op.outputs[0]).dtype != DType::Float32)
                continue;
            op.opcode = model::BuiltinOp::RESHAPE;
            op.builtin_code = static_cast<int32_t>(model::BuiltinOp::RESHAPE);
            op.inputs.resize(1);
            op.options = model::NoOptions{};
            ++twin.identity_ops;
        }
    }
    twin.model.storage = std::move(storage);
    return twin;
}

}  // namespace qs::engine::analysis
