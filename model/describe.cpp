#include "model/describe.h"

#include <algorithm>
#include <cstdio>

#include "model/str_format.h"

namespace qs::model {

namespace {

// %g keeps scales readable (0.0235294) without losing the exponent of tiny ones (1.2e-05).
std::string shortFloat(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", v);
    return buf;
}

std::string withActivation(std::string text, Activation a) {
    if (a != Activation::None) {
        if (!text.empty()) text += ' ';
        text += activationName(a);
    }
    return text;
}

}  // namespace

std::string formatShape(std::span<const int32_t> shape) {
    std::string out = "[";
    for (size_t i = 0; i < shape.size(); ++i) {
        if (i) out += ',';
        out += std::to_string(shape[i]);
    }
    return out + "]";
}

std::string formatQuantization(const Quantization& q) {
    if (!q.isQuantized()) return {};
    if (!q.isPerChannel()) {
        return "s=" + shortFloat(q.scales[0]) + " zp=" + std::to_string(q.zeroPoint(0));
    }
    const auto [lo, hi] = std::minmax_element(q.scales.begin(), q.scales.end());
    std::string zp;
    if (q.zero_points.empty()) {
        zp = "0";
    } else {
        const auto [zlo, zhi] = std::minmax_element(q.zero_points.begin(), q.zero_points.end());
        zp = *zlo == *zhi ? std::to_string(*zlo)
                          : "[" + std::to_string(*zlo) + ".." + std::to_string(*zhi) + "]";
    }
    return strFormat("{} ch (axis {}), s=[{}..{}] zp={}", q.scales.size(), q.quantized_dimension,
                       shortFloat(*lo), shortFloat(*hi), zp);
}

std::string formatKeyOptions(const Operator& op) {
    const auto padding = [](Padding p) { return std::string(paddingName(p)); };
    if (const auto* o = op.opts<Conv2DOptions>()) {
        std::string s = strFormat("s{}x{} {}", o->stride_h, o->stride_w, padding(o->padding));
        if (o->dilation_h_factor != 1 || o->dilation_w_factor != 1)
            s += strFormat(" d{}x{}", o->dilation_h_factor, o->dilation_w_factor);
        return withActivation(std::move(s), o->fused_activation_function);
    }
    if (const auto* o = op.opts<DepthwiseConv2DOptions>()) {
        std::string s = strFormat("s{}x{} {}", o->stride_h, o->stride_w, padding(o->padding));
        if (o->depth_multiplier > 1) s += strFormat(" dm{}", o->depth_multiplier);
        if (o->dilation_h_factor != 1 || o->dilation_w_factor != 1)
            s += strFormat(" d{}x{}", o->dilation_h_factor, o->dilation_w_factor);
        return withActivation(std::move(s), o->fused_activation_function);
    }
    if (const auto* o = op.opts<TransposeConvOptions>()) {
        return withActivation(strFormat("s{}x{} {}", o->stride_h, o->stride_w, padding(o->padding)),
                              o->fused_activation_function);
    }
    if (const auto* o = op.opts<Pool2DOptions>()) {
        return withActivation(strFormat("{}x{} s{}x{} {}", o->filter_height, o->filter_width,
                                          o->stride_h, o->stride_w, padding(o->padding)),
                              o->fused_activation_function);
    }
    if (const auto* o = op.opts<FullyConnectedOptions>()) {
        return withActivation(o->keep_num_dims ? "keep_dims" : "", o->fused_activation_function);
    }
    if (const auto* o = op.opts<AddSubOptions>()) return withActivation("", o->fused_activation_function);
    if (const auto* o = op.opts<ActivationOptions>()) return withActivation("", o->fused_activation_function);
    if (const auto* o = op.opts<ConcatenationOptions>()) {
        return withActivation(strFormat("axis {}", o->axis), o->fused_activation_function);
    }
    if (const auto* o = op.opts<SoftmaxOptions>()) {
        return o->beta == 1.0f ? std::string() : "beta " + shortFloat(o->beta);
    }
    if (const auto* o = op.opts<ReducerOptions>()) return o->keep_dims ? "keep_dims" : "";
    return {};
}

const Tensor* quantizedWeights(const Subgraph& sg, const Operator& op) {
    for (const TensorId id : op.inputs) {
        if (!id.valid()) continue;
        const Tensor& t = sg.tensor(id);
        if (t.isConstant() && t.quantization.isQuantized() && t.shape.size() >= 2) return &t;
    }
    return nullptr;
}

}  // namespace qs::model
