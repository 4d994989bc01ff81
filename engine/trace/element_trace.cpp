#include "engine/trace/element_trace.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <deque>
#include <limits>
#include <map>

#include "engine/kernels/add.h"
#include "engine/kernels/common.h"
#include "engine/profiles/requantize.h"
#include "engine/profiles/rule_table.h"
#include "model/str_format.h"

namespace qs::engine::trace {

namespace {

using model::BuiltinOp;
using model::DType;

// Stages (see TraceStep::stage). Requantization groups take base + 0..3.
constexpr int kStageInput1 = 10;
constexpr int kStageInput2 = 20;
constexpr int kStageSum = 30;
constexpr int kStageScaled = 40;
constexpr int kStageZeroPoint = 90;
constexpr int kStageClamp = 95;

std::string realString(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.9g", v);
    return buf;
}

void addStep(std::vector<TraceStep>& s, std::string key, std::string label, std::string formula,
             StepValue v, int stage, bool comparable) {
    TraceStep t;
    t.key = std::move(key);
    t.label = std::move(label);
    t.formula = std::move(formula);
    t.value = std::move(v);
    t.stage = stage;
    t.comparable = comparable;
    s.push_back(std::move(t));
}

int64_t readInt(const TensorValue& v, int64_t i) {
    const auto k = static_cast<size_t>(i);
    switch (v.dtype()) {
        case DType::Int8:
            return v.data<int8_t>()[k];
        case DType::UInt8:
            return v.data<uint8_t>()[k];
        case DType::Int16:
            return v.data<int16_t>()[k];
        case DType::Int32:
            return v.data<int32_t>()[k];
        case DType::Int64:
            return v.data<int64_t>()[k];
        default:
            return 0;
    }
}

int64_t ravel(std::span<const int32_t> coord, std::span<const int32_t> shape) {
    int64_t flat = 0;
    for (size_t i = 0; i < shape.size(); ++i) flat = flat * shape[i] + coord[i];
    return flat;
}

std::vector<int32_t> unravel(int64_t flat, std::span<const int32_t> shape) {
    std::vector<int32_t> c(shape.size(), 0);
    for (size_t i = shape.size(); i-- > 0;) {
        if (shape[i] == 0) continue;
        c[i] = static_cast<int32_t>(flat % shape[i]);
        flat /= shape[i];
    }
    return c;
}

std::string multiplierText(int32_t m, int shift) {
    return strFormat("M = {}, shift = {} (M * 2^(shift-31) = {})", m, shift,
                     realString(static_cast<double>(m) * std::ldexp(1.0, shift - 31)));
}

// Appends one requantization of `x` by (m, shift) under `rule` as sub-steps "<key>.*" and the
// result as step `key`, following the rq:: primitives of profiles/requantize.h (which cite
// the upstream sources); returns the result.
int32_t emitRequant(std::vector<TraceStep>& s, const std::string& key, int base, RequantRule rule,
                    int32_t x, int32_t m, int shift, const std::string& pre = {},
                    const char* scale_formula = "XNNPACK: s_in * s_w / s_out in float arithmetic") {
    auto addStep = [&](std::vector<TraceStep>& v, std::string k, std::string label,
                       std::string formula, StepValue val, int stage, bool comparable) {
        trace::addStep(v, std::move(k), pre + label, std::move(formula), std::move(val), stage,
                       comparable);
    };
    if (rule == RequantRule::Fp32) {
        const float scale = std::bit_cast<float>(m);
        addStep(s, key + ".multiplier", "float scale", scale_formula,
                StepValue::ofText(strFormat("scale = {} (float bits 0x{})", realString(scale),
                                            [&] {
                                                char b[16];
                                                std::snprintf(b, sizeof b, "%08x",
                                                              std::bit_cast<uint32_t>(scale));
                                                return std::string(b);
                                            }())),
                base, false);
        const float fx = static_cast<float>(x);
        addStep(s, key + ".float_acc", "float(x)", "int32 -> float (ties to even above 2^24)",
                StepValue::ofReal(fx), base + 1, true);
        const float prod = fx * scale;
        addStep(s, key + ".float_product", "float(x) * scale", "one float rounding",
                StepValue::ofReal(prod), base + 2, true);
        const int32_t r = rq::multiplyFp32(x, scale);
        addStep(s, key, "round to nearest, ties to even", "nearbyint (magic-bias / cvtps2dq)",
                StepValue::ofInt(r), base + 3, true);
        return r;
    }
    addStep(s, key + ".multiplier", "quantized multiplier", "QuantizeMultiplier (Q0.31, shift)",
            StepValue::ofText(multiplierText(m, shift)), base, false);
    if (rule == RequantRule::SingleRounding) {
        const int64_t prod = static_cast<int64_t>(x) * m;
        addStep(s, key + ".product64", "x * M (64-bit)", "one 64-bit product",
                StepValue::ofInt(prod), base + 2, true);
        const int32_t r = rq::multiplySingleRounding(x, m, shift);
        addStep(s, key, strFormat("rounding shift >> {}", 31 - shift),
                strFormat("(x*M + 2^{}) >> {}, ties toward +inf (TFLITE_SINGLE_ROUNDING)",
                          30 - shift, 31 - shift),
                StepValue::ofInt(r), base + 3, true);
        return r;
    }
    // Double rounding and ruy x86 share the structure: left shift, high multiply, right shift.
    const int left_shift = shift > 0 ? shift : 0;
    const int right_shift = shift > 0 ? 0 : -shift;
    const auto shifted = static_cast<int32_t>(static_cast<uint32_t>(x) << left_shift);
    if (left_shift > 0)
        addStep(s, key + ".left_shift", strFormat("x << {}", left_shift), "int32 (wraps)",
                StepValue::ofInt(shifted), base + 1, true);
    if (rule == RequantRule::RuyX86) {
        const int64_t high = (static_cast<int64_t>(shifted) * m + (int64_t{1} << 30)) >> 31;
        addStep(s, key + ".high_mul", "fixed-point multiply (ruy)",
                "(x*M + 2^30) >> 31, ties toward +inf", StepValue::ofInt(high), base + 2, true);
        const int32_t r = rq::multiplyRuyX86(x, m, shift);
        addStep(s, key, strFormat("rounding right shift >> {} (ruy)", right_shift),
                right_shift
                    ? strFormat("(h + 2^{}) >> {}, ties toward +inf", right_shift - 1, right_shift)
                    : std::string("no right shift"),
                StepValue::ofInt(r), base + 3, true);
        return r;
    }
    const int32_t high = rq::saturatingRoundingDoublingHighMul(shifted, m);
    addStep(s, key + ".high_mul", "SaturatingRoundingDoublingHighMul",
            "(x*M + nudge) / 2^31, ties toward +inf", StepValue::ofInt(high), base + 2, true);
    const int32_t r = rq::roundingDivideByPOT(high, right_shift);
    addStep(s, key, strFormat("RoundingDivideByPOT(., {})", right_shift), "ties away from zero",
            StepValue::ofInt(r), base + 3, true);
    return r;
}

// int16x8 kernels: MultiplyByQuantizedMultiplier(int64 x) (rq::multiply64).
int32_t emitRequant64(std::vector<TraceStep>& s, const std::string& key, int base, int64_t x,
                      int32_t m, int shift) {
    addStep(s, key + ".multiplier", "quantized multiplier", "QuantizeMultiplier (Q0.31, shift)",
            StepValue::ofText(multiplierText(m, shift)), base, false);
    const int32_t reduced = m < 0x7FFF0000 ? ((m + (1 << 15)) >> 16) : 0x7FFF;
    addStep(s, key + ".reduced_multiplier", "16-bit multiplier", "(M + 2^15) >> 16",
            StepValue::ofInt(reduced), base + 1, true);
    addStep(s, key + ".product64", "x * M16 (64-bit)", "int64 accumulator times 16-bit multiplier",
            StepValue::ofInt(x * reduced), base + 2, true);
    const int32_t r = rq::multiply64(x, m, shift);
    addStep(s, key, strFormat("rounding shift >> {}", 15 - shift),
            strFormat("(p + 2^{}) >> {}, ties toward +inf", 14 - shift, 15 - shift),
            StepValue::ofInt(r), base + 3, true);
    return r;
}

// "+ zero point" and the activation clamp; sets the profile's output.
void finishOutput(ProfileTrace& pt, int32_t scaled, int32_t zp, int32_t lo, int32_t hi,
                  float out_scale) {
    const int32_t with_zp = scaled + zp;
    addStep(pt.steps, "with_zero_point", "+ output zero point", strFormat("+ {}", zp),
            StepValue::ofInt(with_zp), kStageZeroPoint, true);
    pt.output = std::clamp(with_zp, lo, hi);
    addStep(pt.steps, "clamped", "clamp to activation range", strFormat("[{}, {}]", lo, hi),
            StepValue::ofInt(pt.output), kStageClamp, true);
    pt.output_real = static_cast<double>(out_scale) * (pt.output - zp);
}

void setRule(ProfileTrace& pt, RoundingProfile p, BuiltinOp op, DType t, RequantRule rule) {
    pt.profile = p;
    pt.rule = std::string(requantRuleName(rule));
    if (const auto* e = findRule(p, op, t)) pt.upstream = std::string(e->upstream);
}

double floatActivation(model::Activation act, double v) {
    const auto r = kernels::activationRangeFloat(act);
    return std::min(std::max(v, static_cast<double>(r.min)), static_cast<double>(r.max));
}

// Everything a per-op tracer needs.
struct OpCtx {
    const model::Model& model;
    const model::Subgraph& sg;
    const model::Operator& op;
    OpId op_id;
    const TensorLookup& lookup;
    std::span<const RoundingProfile> profiles;
    std::deque<TensorValue> constants;  // stable addresses

    std::unexpected<Error> fail(std::string message) const {
        Error e;
        e.message = strFormat("op {} ({}): {}", op_id.value, op.name(), message);
        e.op_index = op_id.value;
        return std::unexpected(std::move(e));
    }
    // Input i's value: from the run, or the model's constant data.
    Result<const TensorValue*> input(int i) {
        if (i >= static_cast<int>(op.inputs.size()) || !op.inputs[static_cast<size_t>(i)].valid())
            return static_cast<const TensorValue*>(nullptr);
        const TensorId id = op.inputs[static_cast<size_t>(i)];
        const auto& t = sg.tensor(id);
        if (t.isConstant()) {
            auto v = TensorValue::fromConstant(t);
            if (!v) return std::unexpected(v.error());
            constants.push_back(std::move(*v));
            return &constants.back();
        }
        const TensorValue* v = lookup ? lookup(id) : nullptr;
        if (!v || !v->valid())
            return fail(
                strFormat("input tensor {} '{}' was not computed in this run", id.value, t.name));
        return v;
    }
    const model::Quantization& quant(int i) const {
        return sg.tensor(op.inputs[static_cast<size_t>(i)]).quantization;
    }
    PrepareContext prepareContext(RoundingProfile p) const {
        return PrepareContext(op, op_id, p, true, {}, {});
    }
};

// ---- CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED -------------------------------------------

Result<void> traceConvLike(OpCtx& c, ElementTrace& t) {
    auto in_r = c.input(0);
    if (!in_r) return std::unexpected(in_r.error());
    auto f_r = c.input(1);
    if (!f_r) return std::unexpected(f_r.error());
    auto b_r = c.input(2);
    if (!b_r) return std::unexpected(b_r.error());
    const TensorValue* in = *in_r;
    const TensorValue* filter = *f_r;
    const TensorValue* bias = *b_r;
    if (!in || !filter) return c.fail("needs input and filter");
    const DType type = t.dtype;
    const DType want_filter = type == DType::UInt8 ? DType::UInt8 : DType::Int8;
    if (filter->dtype() != want_filter)
        return c.fail("filter type does not match the input type (hybrid ops are not traced)");
    const auto& iq = c.quant(0);
    const auto& fq = c.quant(1);
    const auto& oq = c.sg.tensor(t.output).quantization;
    if (!iq.isQuantized() || !fq.isQuantized() || !oq.isQuantized())
        return c.fail("input, filter and output must be quantized");
    const BuiltinOp opcode = c.op.opcode;
    const bool fc = opcode == BuiltinOp::FULLY_CONNECTED;
    const bool dw = opcode == BuiltinOp::DEPTHWISE_CONV_2D;
    const int32_t in_zp = static_cast<int32_t>(iq.zeroPoint());
    const int32_t out_zp = static_cast<int32_t>(oq.zeroPoint());
    const float in_scale = iq.scale();
    const float out_scale = oq.scale();
    // As the kernels: int16x8 CONV_2D / DEPTHWISE_CONV_2D multiply the stored values (zero
    // points 0); FULLY_CONNECTED always subtracts both zero points; 8-bit conv/depthwise
    // subtract the filter zero point only for uint8 (int8 filters are symmetric).
    const bool raw16 = type == DType::Int16 && !fc;
    const int32_t input_offset = raw16 ? 0 : -in_zp;
    const int32_t weights_offset =
        !raw16 && (fc || type == DType::UInt8) ? -static_cast<int32_t>(fq.zeroPoint()) : 0;
    model::Activation act = model::Activation::None;
    int32_t channel = 0;
    auto addTerm = [&](int64_t in_flat, std::vector<int32_t> wcoord, int64_t w_flat,
                       size_t w_channel) {
        TraceTerm term;
        term.input = 0;
        term.input_coord = unravel(in_flat, in->shape());
        term.input_q = readInt(*in, in_flat);
        term.input_centered = term.input_q + input_offset;
        term.input_real = static_cast<double>(in_scale) * (term.input_q - in_zp);
        term.has_weight = true;
        term.weight_coord = std::move(wcoord);
        term.weight_q = readInt(*filter, w_flat);
        term.weight_centered = term.weight_q + weights_offset;
        term.weight_real = static_cast<double>(fq.scale(fq.isPerChannel() ? w_channel : 0)) *
                           (term.weight_q - fq.zeroPoint(fq.isPerChannel() ? w_channel : 0));
        term.product = term.input_centered * term.weight_centered;
        t.terms.push_back(std::move(term));
    };

    if (fc) {
        const auto* o = c.op.opts<model::FullyConnectedOptions>();
        if (!o) return c.fail("missing options");
        act = o->fused_activation_function;
        if (filter->rank() != 2) return c.fail("filter must be 2-D");
        const int32_t units = filter->dim(0), depth = filter->dim(1);
        if (depth <= 0 || in->numElements() % depth != 0)
            return c.fail("input size is not a multiple of the filter depth");
        const int64_t b = t.flat_index / units;
        const auto u = static_cast<int32_t>(t.flat_index % units);
        channel = u;
        for (int32_t d = 0; d < depth; ++d)
            addTerm(b * depth + d, {u, d}, int64_t{u} * depth + d, static_cast<size_t>(u));
    } else {
        if (in->rank() != 4 || filter->rank() != 4) return c.fail("input and filter must be 4-D");
        const auto in_s = kernels::Shape4::fromShape(in->shape());
        const auto f_s = kernels::Shape4::fromShape(filter->shape());
        model::Padding padding;
        int32_t sw, sh, dwf, dhf;
        if (dw) {
            const auto* o = c.op.opts<model::DepthwiseConv2DOptions>();
            if (!o) return c.fail("missing options");
            padding = o->padding, sw = o->stride_w, sh = o->stride_h;
            dwf = o->dilation_w_factor, dhf = o->dilation_h_factor;
            act = o->fused_activation_function;
        } else {
            const auto* o = c.op.opts<model::Conv2DOptions>();
            if (!o) return c.fail("missing options");
            padding = o->padding, sw = o->stride_w, sh = o->stride_h;
            dwf = o->dilation_w_factor, dhf = o->dilation_h_factor;
            act = o->fused_activation_function;
        }
        if (sw <= 0 || sh <= 0 || dwf <= 0 || dhf <= 0) return c.fail("bad strides");
        const int32_t out_h = kernels::computeOutSize(padding, in_s.h, f_s.h, sh, dhf);
        const int32_t out_w = kernels::computeOutSize(padding, in_s.w, f_s.w, sw, dwf);
        const int32_t pad_h = kernels::computePadding(sh, dhf, in_s.h, f_s.h, out_h);
        const int32_t pad_w = kernels::computePadding(sw, dwf, in_s.w, f_s.w, out_w);
        const int32_t b = t.element[0], oy = t.element[1], ox = t.element[2];
        const int32_t oc = t.element[3];
        channel = oc;
        const int32_t in_y0 = oy * sh - pad_h, in_x0 = ox * sw - pad_w;
        int32_t in_c0 = 0, n_ic = 1;
        if (dw) {
            if (in_s.c <= 0 || f_s.c % in_s.c != 0) return c.fail("bad depth multiplier");
            in_c0 = oc / (f_s.c / in_s.c);
        } else {
            if (f_s.c <= 0 || in_s.c % f_s.c != 0) return c.fail("bad filter depth");
            const int32_t groups = in_s.c / f_s.c;
            in_c0 = (oc / (f_s.n / groups)) * f_s.c;
            n_ic = f_s.c;
        }
        for (int32_t fy = 0; fy < f_s.h; ++fy) {
            const int32_t iy = in_y0 + dhf * fy;
            for (int32_t fx = 0; fx < f_s.w; ++fx) {
                const int32_t ix = in_x0 + dwf * fx;
                if (iy < 0 || iy >= in_s.h || ix < 0 || ix >= in_s.w) {
                    t.skipped_taps += n_ic;
                    continue;
                }
                for (int32_t ic = 0; ic < n_ic; ++ic) {
                    const int64_t in_flat = in_s.offset(b, iy, ix, in_c0 + ic);
                    if (dw)
                        addTerm(in_flat, {0, fy, fx, oc}, f_s.offset(0, fy, fx, oc),
                                static_cast<size_t>(oc));
                    else
                        addTerm(in_flat, {oc, fy, fx, ic}, f_s.offset(oc, fy, fx, ic),
                                static_cast<size_t>(oc));
                }
            }
        }
    }

    // The accumulator (int32 for 8-bit, int64 for int16x8; see kernels/conv.cpp for ranges).
    int64_t sum = 0;
    for (const auto& term : t.terms) sum += term.product;
    addStep(t.common, "products_sum", "sum of products",
            strFormat("sum over {} taps of (x - zp_in) * (w - zp_w)", t.terms.size()),
            StepValue::ofInt(sum), 1, false);
    int64_t bias_q = 0;
    double bias_real = 0.0;
    const size_t ch = static_cast<size_t>(channel);
    const float filter_scale = fq.scale(fq.isPerChannel() ? ch : 0);
    if (bias) {
        bias_q = readInt(*bias, channel);
        const auto& bq = c.quant(2);
        const double bs = bq.isQuantized() ? bq.scale(bq.isPerChannel() ? ch : 0)
                                           : static_cast<double>(in_scale) * filter_scale;
        bias_real =
            bs * static_cast<double>(
                     bias_q - (bq.isQuantized() ? bq.zeroPoint(bq.isPerChannel() ? ch : 0) : 0));
        addStep(t.common, "bias", strFormat("bias[{}]", channel), "int32 (int16x8: int64)",
                StepValue::ofInt(bias_q), 2, false);
    } else {
        addStep(t.common, "bias", "bias", "no bias input", StepValue::ofInt(0), 2, false);
    }
    const int64_t acc = sum + bias_q;
    addStep(t.common, "acc", type == DType::Int16 ? "accumulator (int64)" : "accumulator (int32)",
            "sum of products + bias", StepValue::ofInt(acc), 3, false);
    const double real_multiplier =
        static_cast<double>(in_scale) * filter_scale / static_cast<double>(out_scale);
    addStep(t.common, "real_multiplier", strFormat("real multiplier (channel {})", channel),
            "s_in * s_w / s_out", StepValue::ofReal(real_multiplier), 4, false);

    double real = bias_real;
    for (const auto& term : t.terms) real += term.input_real * term.weight_real;
    t.float_value = floatActivation(act, real);
    t.float_ideal_q = t.float_value / out_scale + out_zp;

    // FULLY_CONNECTED per-tensor takes the scale product in float (uint8 form of
    // convMultiplier), as kernels/fully_connected.cpp does.
    const DType mult_type = fc && !fq.isPerChannel() ? DType::UInt8 : type;
    for (RoundingProfile p : c.profiles) {
        ProfileTrace pt;
        const RequantRule rule = requantRuleFor(p, opcode, type);
        setRule(pt, p, opcode, type, rule);
        const auto ctx = c.prepareContext(p);
        const auto q =
            kernels::convMultiplier(ctx, rule, mult_type, in_scale, filter_scale, out_scale);
        int32_t scaled;
        if (type == DType::Int16) {
            pt.rule = "int64 (16-bit multiplier)";
            scaled = emitRequant64(pt.steps, "scaled", kStageScaled, acc, q.multiplier, q.shift);
        } else {
            scaled = emitRequant(pt.steps, "scaled", kStageScaled, rule, static_cast<int32_t>(acc),
                                 q.multiplier, q.shift);
        }
        const auto range = kernels::activationRangeQuantized(act, type, out_scale, out_zp);
        finishOutput(pt, scaled, out_zp, range.min, range.max, out_scale);
        t.profiles.push_back(std::move(pt));
    }
    return {};
}

// ---- ADD, SUB, MUL -------------------------------------------------------------------------

std::vector<int32_t> broadcastCoord(std::span<const int32_t> out_coord,
                                    std::span<const int32_t> in_shape) {
    std::vector<int32_t> c(in_shape.size(), 0);
    const size_t off = out_coord.size() - in_shape.size();
    for (size_t i = 0; i < in_shape.size(); ++i) c[i] = in_shape[i] == 1 ? 0 : out_coord[off + i];
    return c;
}

// tensorflow/lite/kernels/kernel_util.cc CheckedLog2, as kernels/elementwise_binary.cpp uses it.
bool isPot(float scale, int& log2_rounded) {
    const float l = std::log2(scale);
    log2_rounded = static_cast<int>(std::round(l));
    return std::fabs(l - static_cast<float>(log2_rounded)) < 1e-6f;
}

Result<void> traceBinary(OpCtx& c, ElementTrace& t) {
    const BuiltinOp opcode = c.op.opcode;
    const TensorValue* v[2];
    for (int i = 0; i < 2; ++i) {
        auto r = c.input(i);
        if (!r) return std::unexpected(r.error());
        if (!*r) return c.fail("needs two inputs");
        v[i] = *r;
        if (v[i]->dtype() != t.dtype) return c.fail("input and output types differ");
    }
    const auto& q1 = c.quant(0);
    const auto& q2 = c.quant(1);
    const auto& oq = c.sg.tensor(t.output).quantization;
    if (!q1.isQuantized() || !q2.isQuantized() || !oq.isQuantized())
        return c.fail("inputs and output must be quantized");
    const DType type = t.dtype;
    const float s1 = q1.scale(), s2 = q2.scale(), so = oq.scale();
    const auto zp1 = static_cast<int32_t>(q1.zeroPoint());
    const auto zp2 = static_cast<int32_t>(q2.zeroPoint());
    const auto zo = static_cast<int32_t>(oq.zeroPoint());
    model::Activation act = model::Activation::None;
    bool pot_allowed = true;
    if (opcode == BuiltinOp::MUL) {
        if (const auto* o = c.op.opts<model::ActivationOptions>())
            act = o->fused_activation_function;
    } else if (const auto* o = c.op.opts<model::AddSubOptions>()) {
        act = o->fused_activation_function;
        pot_allowed = o->pot_scale_int16;
    }
    int32_t raw[2];
    for (int i = 0; i < 2; ++i) {
        TraceTerm term;
        term.input = i;
        term.input_coord = broadcastCoord(t.element, v[i]->shape());
        term.input_q = readInt(*v[i], ravel(term.input_coord, v[i]->shape()));
        const int32_t zp = i == 0 ? zp1 : zp2;
        term.input_centered = term.input_q - zp;
        term.input_real = static_cast<double>(i == 0 ? s1 : s2) * term.input_centered;
        raw[i] = static_cast<int32_t>(term.input_q);
        t.terms.push_back(std::move(term));
    }
    const int32_t c1 = raw[0] - zp1, c2 = raw[1] - zp2;
    const double r1 = t.terms[0].input_real, r2 = t.terms[1].input_real;
    const double real = opcode == BuiltinOp::ADD   ? r1 + r2
                        : opcode == BuiltinOp::SUB ? r1 - r2
                                                   : r1 * r2;
    t.float_value = floatActivation(act, real);
    t.float_ideal_q = t.float_value / so + zo;
    const auto range = kernels::activationRangeQuantized(act, type, so, zo);

    if (opcode == BuiltinOp::MUL) {
        const int32_t prod = c1 * c2;
        addStep(t.common, "product", "(a - zp1) * (b - zp2)", strFormat("{} * {}", c1, c2),
                StepValue::ofInt(prod), 1, false);
        addStep(t.common, "real_multiplier", "real multiplier", "s1 * s2 / s_out",
                StepValue::ofReal(static_cast<double>(s1) * s2 / so), 2, false);
        for (RoundingProfile p : c.profiles) {
            ProfileTrace pt;
            RequantRule rule = requantRuleFor(p, opcode, type);
            int32_t scaled;
            if (p == RoundingProfile::Xnnpack && type != DType::Int16) {
                // kernels/elementwise_binary.cpp: XNNPACK's fp32 vmul requantization.
                rule = RequantRule::Fp32;
                setRule(pt, p, opcode, type, rule);
                const float scale = s1 * s2 / so;
                scaled = emitRequant(pt.steps, "scaled", kStageScaled, rule, prod,
                                     std::bit_cast<int32_t>(scale), 0, {},
                                     "XNNPACK: s1 * s2 / s_out in float arithmetic");
            } else {
                setRule(pt, p, opcode, type, rule);
                const auto q = kernels::quantizeMultiplierFor(
                    p, static_cast<double>(s1) * static_cast<double>(s2) / static_cast<double>(so));
                scaled = emitRequant(pt.steps, "scaled", kStageScaled, rule, prod, q.multiplier,
                                     q.shift);
            }
            finishOutput(pt, scaled, zo, range.min, range.max, so);
            t.profiles.push_back(std::move(pt));
        }
        return {};
    }

    const bool sub = opcode == BuiltinOp::SUB;
    const int left_shift = type == DType::Int16 ? 15 : 20;
    const int32_t x1 = c1 * (1 << left_shift);
    const int32_t x2 = c2 * (1 << left_shift);
    addStep(t.common, "input1_shifted", strFormat("(a - zp1) << {}", left_shift),
            "TFLite: inputs widened before rescaling", StepValue::ofInt(x1), 1, false);
    addStep(t.common, "input2_shifted", strFormat("(b - zp2) << {}", left_shift), "",
            StepValue::ofInt(x2), 2, false);
    for (RoundingProfile p : c.profiles) {
        ProfileTrace pt;
        RequantRule rule = requantRuleFor(p, opcode, type);
        int32_t scaled = 0;
        if (!sub && rule == RequantRule::XnnpackAdd) {
            const auto xp = kernels::xnnpackAddParams(s1, zp1, s2, zp2, so, zo);
            if (xp) {
                setRule(pt, p, opcode, type, rule);
                addStep(pt.steps, "xnn.params", "XNNPACK ADD parameters",
                        "m = lrintf(float(s_in/s_out) * 2^shift); bias = 2^(shift-1) - m_a*zp_a - "
                        "m_b*zp_b",
                        StepValue::ofText(strFormat("m_a = {}, m_b = {}, shift = {}, bias = {}",
                                                    xp->a_multiplier, xp->b_multiplier, xp->shift,
                                                    xp->bias)),
                        kStageSum - 1, false);
                const int32_t acc =
                    xp->bias + raw[0] * xp->a_multiplier + raw[1] * xp->b_multiplier;
                addStep(pt.steps, "xnn.acc", "bias + a*m_a + b*m_b", "int32, rounding term in bias",
                        StepValue::ofInt(acc), kStageSum, true);
                scaled = acc >> xp->shift;
                addStep(pt.steps, "scaled", strFormat("acc >> {}", xp->shift),
                        "arithmetic shift: the sum rounded once, ties toward +inf",
                        StepValue::ofInt(scaled), kStageScaled + 3, true);
                finishOutput(pt, scaled, zo, range.min, range.max, so);
                t.profiles.push_back(std::move(pt));
                continue;
            }
            // kernels/add.cpp: outside the delegate's scale-ratio range TFLite's builtin ADD runs.
            rule = RequantRule::DoubleRounding;
            t.notes.push_back(
                "xnnpack: the delegate does not take this ADD (scale ratio outside [2^-10, 2^8)); "
                "TFLite's builtin ADD runs");
        }
        setRule(pt, p, opcode, type, rule);
        QuantizedMultiplier m1, m2, mo;
        bool negate = false;
        if (sub && type == DType::Int16 && p == RoundingProfile::Builtin) {
            int l1 = 0, l2 = 0, lo = 0;
            if (pot_allowed && isPot(s1, l1) && isPot(s2, l2) && isPot(so, lo) && zp1 == 0 &&
                zp2 == 0 && zo == 0) {
                // TFLite sub.cc's power-of-two int16 path (reference_ops Sub16).
                pt.rule = "int16 power-of-two (Sub16)";
                const int sh1 = l1 - lo, sh2 = l2 - lo;
                const int32_t a = sh1 == 0 ? raw[0] : rq::roundingDivideByPOT(raw[0], -sh1);
                const int32_t b = sh2 == 0 ? raw[1] : rq::roundingDivideByPOT(raw[1], -sh2);
                addStep(pt.steps, "pot.input1", strFormat("a >> {}", -sh1),
                        "RoundingDivideByPOT, ties away from zero", StepValue::ofInt(a),
                        kStageInput1 + 3, true);
                addStep(pt.steps, "pot.input2", strFormat("b >> {}", -sh2),
                        "RoundingDivideByPOT, ties away from zero", StepValue::ofInt(b),
                        kStageInput2 + 3, true);
                const int32_t d = std::clamp(a - b, -32768, 32767);
                addStep(pt.steps, "scaled", "a - b saturated to int16", "", StepValue::ofInt(d),
                        kStageScaled + 3, true);
                finishOutput(pt, d, 0, range.min, range.max, so);
                t.profiles.push_back(std::move(pt));
                continue;
            }
        }
        if (!sub || p == RoundingProfile::Builtin) {
            // kernels/add.cpp and TFLite sub.cc: ratios in double.
            const double twice_max = 2.0 * static_cast<double>(std::max(s1, s2));
            m1 = kernels::quantizeMultiplierFor(p, static_cast<double>(s1) / twice_max);
            m2 = kernels::quantizeMultiplierFor(p, static_cast<double>(s2) / twice_max);
            mo = kernels::quantizeMultiplierFor(
                p, twice_max / ((1 << left_shift) * static_cast<double>(so)));
            negate = sub;
        } else {
            // tflite-micro sub_common.cc: ratios in float.
            const float twice_max = 2 * std::max(s1, s2);
            m1 = kernels::quantizeMultiplierFor(p, static_cast<double>(s1 / twice_max));
            m2 = kernels::quantizeMultiplierFor(p, static_cast<double>(s2 / twice_max));
            mo = kernels::quantizeMultiplierFor(
                p, static_cast<double>(twice_max / (static_cast<float>(1 << left_shift) * so)));
        }
        const int32_t r1q = emitRequant(pt.steps, "input1", kStageInput1, rule, x1, m1.multiplier,
                                        m1.shift, "input1: ");
        int32_t sum;
        if (negate) {
            const int32_t r2q = emitRequant(pt.steps, "input2_negated", kStageInput2, rule, x2,
                                            -m2.multiplier, m2.shift, "input2 (negated M): ");
            sum = r1q + r2q;
            addStep(pt.steps, "sum", "s1 + s2' (TFLite sub.cc: negated input2 multiplier)", "",
                    StepValue::ofInt(sum), kStageSum, true);
        } else {
            const int32_t r2q = emitRequant(pt.steps, "input2", kStageInput2, rule, x2,
                                            m2.multiplier, m2.shift, "input2: ");
            sum = sub ? r1q - r2q : r1q + r2q;
            addStep(pt.steps, "sum", sub ? "s1 - s2" : "s1 + s2", "", StepValue::ofInt(sum),
                    kStageSum, true);
        }
        scaled = emitRequant(pt.steps, "scaled", kStageScaled, rule, sum, mo.multiplier, mo.shift,
                             "output: ");
        finishOutput(pt, scaled, zo, range.min, range.max, so);
        t.profiles.push_back(std::move(pt));
    }
    return {};
}

// ---- MEAN ----------------------------------------------------------------------------------

Result<void> traceMean(OpCtx& c, ElementTrace& t) {
    auto in_r = c.input(0);
    if (!in_r) return std::unexpected(in_r.error());
    auto ax_r = c.input(1);
    if (!ax_r) return std::unexpected(ax_r.error());
    const TensorValue* in = *in_r;
    const TensorValue* axis = *ax_r;
    if (!in || !axis || axis->dtype() != DType::Int32) return c.fail("needs input and int32 axis");
    const int rank = in->rank();
    std::vector<bool> reduced(static_cast<size_t>(rank), false);
    for (int32_t a : axis->data<int32_t>()) {
        const int32_t ax = a < 0 ? a + rank : a;
        if (ax < 0 || ax >= rank) return c.fail("axis out of range");
        reduced[static_cast<size_t>(ax)] = true;
    }
    const auto* o = c.op.opts<model::ReducerOptions>();
    const bool keep_dims = o && o->keep_dims;
    const auto& iq = c.quant(0);
    const auto& oq = c.sg.tensor(t.output).quantization;
    if (!iq.isQuantized() || !oq.isQuantized()) return c.fail("input and output must be quantized");
    const float in_scale = iq.scale(), out_scale = oq.scale();
    const auto in_zp = static_cast<int32_t>(iq.zeroPoint());
    const auto out_zp = static_cast<int32_t>(oq.zeroPoint());
    // The fixed coordinates of the input, then every reduced combination in row-major order.
    std::vector<int32_t> base(static_cast<size_t>(rank), 0);
    std::vector<int32_t> red_dims;
    size_t k = 0;
    for (int d = 0; d < rank; ++d) {
        if (reduced[static_cast<size_t>(d)]) {
            red_dims.push_back(d);
            if (keep_dims) ++k;
        } else {
            base[static_cast<size_t>(d)] = t.element[k++];
        }
    }
    int64_t count = 1;
    for (int d : red_dims) count *= in->dim(d);
    std::vector<int32_t> coord = base;
    int64_t sum = 0;
    double real = 0.0;
    for (int64_t i = 0; i < count; ++i) {
        int64_t r = i;
        for (size_t j = red_dims.size(); j-- > 0;) {
            const int d = red_dims[j];
            coord[static_cast<size_t>(d)] = static_cast<int32_t>(r % in->dim(d));
            r /= in->dim(d);
        }
        TraceTerm term;
        term.input_coord = coord;
        term.input_q = readInt(*in, ravel(coord, in->shape()));
        term.input_centered = term.input_q - in_zp;
        term.input_real = static_cast<double>(in_scale) * term.input_centered;
        sum += term.input_q;
        real += term.input_real;
        t.terms.push_back(std::move(term));
    }
    const auto sum32 = static_cast<int32_t>(sum);
    addStep(t.common, "sum", "sum of inputs", "int32 sum of the stored values",
            StepValue::ofInt(sum32), 1, false);
    addStep(t.common, "count", "count", "elements reduced", StepValue::ofInt(count), 2, false);
    t.float_value = count ? real / static_cast<double>(count) : 0.0;
    t.float_ideal_q = t.float_value / out_scale + out_zp;
    const DType type = t.dtype;
    const int32_t lo =
        kernels::activationRangeQuantized(model::Activation::None, type, 1.0f, 0).min;
    const int32_t hi =
        kernels::activationRangeQuantized(model::Activation::None, type, 1.0f, 0).max;
    const bool hw = rank == 4 && reduced[1] && reduced[2] && !reduced[0] && !reduced[3];
    const auto cnt = static_cast<int32_t>(count);
    for (RoundingProfile p : c.profiles) {
        ProfileTrace pt;
        RequantRule rule = requantRuleFor(p, BuiltinOp::MEAN, type);
        const bool xnn = p == RoundingProfile::Xnnpack && type != DType::Int16;
        const bool builtin = p == RoundingProfile::Builtin;
        if (xnn) {
            // kernels/reduce.cpp: XNNPACK reduce-nd mean (float scale, ties to even).
            rule = RequantRule::Fp32;
            setRule(pt, p, BuiltinOp::MEAN, type, rule);
            const int32_t centered = sum32 - in_zp * cnt;
            addStep(pt.steps, "centered", "sum - n * zp_in", "", StepValue::ofInt(centered),
                    kStageSum, true);
            const float scale = (in_scale / out_scale) * (1.0f / static_cast<float>(count));
            const int32_t scaled = emitRequant(
                pt.steps, "scaled", kStageScaled, rule, centered, std::bit_cast<int32_t>(scale), 0,
                {}, "XNNPACK: float(s_in / s_out) * (1.0f / n) in float arithmetic");
            finishOutput(pt, scaled, out_zp, lo, hi, out_scale);
        } else if (builtin && hw && type != DType::Int16) {
            // TFLite reduce.cc (reference_ops::Mean uint8 form): sum * M(s_in/(n*s_out)), then
            // + zp_out - round(zp_in * s_in / s_out).
            rule = RequantRule::DoubleRounding;
            setRule(pt, p, BuiltinOp::MEAN, type, rule);
            float temp = static_cast<float>(in_zp) * in_scale / out_scale;
            temp = temp > 0 ? temp + 0.5f : temp - 0.5f;
            const int32_t bias = out_zp - static_cast<int32_t>(temp);
            const auto q = quantizeMultiplier(
                static_cast<double>(in_scale / (static_cast<float>(count) * out_scale)));
            // sum * M is not the centered mean the other profiles scale: its own key.
            const int32_t scaled = emitRequant(pt.steps, "sum_scaled", kStageScaled, rule, sum32,
                                               q.multiplier, q.shift, "sum * M(s_in/(n*s_out)): ");
            const int32_t with = scaled + bias;
            addStep(pt.steps, "with_zero_point", "+ zp_out - round(zp_in * s_in / s_out)",
                    strFormat("+ {}", bias), StepValue::ofInt(with), kStageZeroPoint, true);
            pt.output = std::clamp(with, lo, hi);
            addStep(pt.steps, "clamped", "clamp to the type range", strFormat("[{}, {}]", lo, hi),
                    StepValue::ofInt(pt.output), kStageClamp, true);
            pt.output_real = static_cast<double>(out_scale) * (pt.output - out_zp);
        } else if (!builtin && hw) {
            // TFLM reference/integer_ops/mean.h: 1/n folded into the multiplier as
            // (M << k) / n with shift - k (see kernels/reduce.cpp).
            setRule(pt, p, BuiltinOp::MEAN, type, rule);
            const auto q = kernels::quantizeMultiplierFor(
                p, static_cast<double>(in_scale) / static_cast<double>(out_scale));
            int kk = 63 - std::countl_zero(static_cast<uint64_t>(count));
            kk = std::min(kk, 32);
            kk = std::min(kk, 31 + q.shift);
            const auto m = static_cast<int32_t>((static_cast<int64_t>(q.multiplier) << kk) / count);
            addStep(pt.steps, "mean.multiplier", "multiplier with 1/n folded in",
                    strFormat("(M << {}) / {}, shift {} - {}", kk, count, q.shift, kk),
                    StepValue::ofText(multiplierText(m, q.shift - kk)), kStageSum - 1, false);
            const int32_t centered = sum32 - in_zp * cnt;
            addStep(pt.steps, "centered", "sum - n * zp_in", "", StepValue::ofInt(centered),
                    kStageSum, true);
            const int32_t scaled =
                emitRequant(pt.steps, "scaled", kStageScaled, rule, centered, m, q.shift - kk);
            finishOutput(pt, scaled, out_zp, lo, hi, out_scale);
        } else {
            // reference/reduce.h QuantizedMeanOrSum: float mean, float rescale, std::round.
            pt.profile = p;
            pt.rule = "float (QuantizedMeanOrSum)";
            if (const auto* e = findRule(p, BuiltinOp::MEAN, type)) pt.upstream = e->upstream;
            const float scale = in_scale / out_scale;
            const float bias = static_cast<float>(-in_zp) * scale;
            const float mean = static_cast<float>(sum32) / static_cast<float>(count);
            addStep(pt.steps, "float_mean", "float(sum) / n", "float", StepValue::ofReal(mean),
                    kStageSum, true);
            const float scaled = mean * scale + bias;
            addStep(pt.steps, "float_scaled", "mean * s_in/s_out - zp_in * s_in/s_out", "float",
                    StepValue::ofReal(scaled), kStageScaled + 2, true);
            const float rounded = std::round(scaled);
            addStep(pt.steps, "scaled", "std::round", "ties away from zero",
                    StepValue::ofInt(static_cast<int64_t>(rounded)), kStageScaled + 3, true);
            float r = rounded + static_cast<float>(out_zp);
            addStep(pt.steps, "with_zero_point", "+ output zero point", strFormat("+ {}", out_zp),
                    StepValue::ofReal(r), kStageZeroPoint, true);
            r = std::max(std::min(r, static_cast<float>(hi)), static_cast<float>(lo));
            pt.output = static_cast<int32_t>(r);
            addStep(pt.steps, "clamped", "clamp to the type range", strFormat("[{}, {}]", lo, hi),
                    StepValue::ofInt(pt.output), kStageClamp, true);
            pt.output_real = static_cast<double>(out_scale) * (pt.output - out_zp);
        }
        t.profiles.push_back(std::move(pt));
    }
    return {};
}

// ---- AVERAGE_POOL_2D -----------------------------------------------------------------------

Result<void> traceAveragePool(OpCtx& c, ElementTrace& t) {
    auto in_r = c.input(0);
    if (!in_r) return std::unexpected(in_r.error());
    const TensorValue* in = *in_r;
    const auto* o = c.op.opts<model::Pool2DOptions>();
    if (!in || !o || in->rank() != 4) return c.fail("needs a 4-D input and options");
    if (o->stride_w <= 0 || o->stride_h <= 0 || o->filter_width <= 0 || o->filter_height <= 0)
        return c.fail("bad strides or filter size");
    const auto& oq = c.sg.tensor(t.output).quantization;
    const auto& iq = c.quant(0);
    const auto in_s = kernels::Shape4::fromShape(in->shape());
    const int32_t out_h =
        kernels::computeOutSize(o->padding, in_s.h, o->filter_height, o->stride_h, 1);
    const int32_t out_w =
        kernels::computeOutSize(o->padding, in_s.w, o->filter_width, o->stride_w, 1);
    const int32_t pad_h = kernels::computePadding(o->stride_h, 1, in_s.h, o->filter_height, out_h);
    const int32_t pad_w = kernels::computePadding(o->stride_w, 1, in_s.w, o->filter_width, out_w);
    const int32_t b = t.element[0], oy = t.element[1], ox = t.element[2], ch = t.element[3];
    const int32_t in_x0 = ox * o->stride_w - pad_w, in_y0 = oy * o->stride_h - pad_h;
    const int32_t fx0 = std::max(0, -in_x0), fx1 = std::min(o->filter_width, in_s.w - in_x0);
    const int32_t fy0 = std::max(0, -in_y0), fy1 = std::min(o->filter_height, in_s.h - in_y0);
    const float in_scale = iq.isQuantized() ? iq.scale() : 1.0f;
    const auto in_zp = static_cast<int32_t>(iq.zeroPoint());
    int32_t acc = 0, count = 0;
    double real = 0.0;
    for (int32_t fy = fy0; fy < fy1; ++fy)
        for (int32_t fx = fx0; fx < fx1; ++fx) {
            TraceTerm term;
            const int64_t flat = in_s.offset(b, in_y0 + fy, in_x0 + fx, ch);
            term.input_coord = unravel(flat, in->shape());
            term.input_q = readInt(*in, flat);
            term.input_centered = term.input_q - in_zp;
            term.input_real = static_cast<double>(in_scale) * term.input_centered;
            acc += static_cast<int32_t>(term.input_q);
            real += term.input_real;
            ++count;
            t.terms.push_back(std::move(term));
        }
    t.skipped_taps = o->filter_width * o->filter_height - count;
    addStep(t.common, "sum", "sum of the window",
            "int32 sum of the stored values (zero points "
            "cancel: input and output share scale and zero point)",
            StepValue::ofInt(acc), 1, false);
    addStep(t.common, "count", "count", "taps inside the image (padding excluded)",
            StepValue::ofInt(count), 2, false);
    t.float_value = count ? floatActivation(o->fused_activation_function, real / count) : 0.0;
    const float out_scale = oq.isQuantized() ? oq.scale() : 1.0f;
    const auto out_zp = static_cast<int32_t>(oq.zeroPoint());
    t.float_ideal_q = t.float_value / out_scale + out_zp;
    const auto range =
        kernels::activationRangeQuantized(o->fused_activation_function, t.dtype, out_scale, out_zp);
    for (RoundingProfile p : c.profiles) {
        ProfileTrace pt;
        setRule(pt, p, BuiltinOp::AVERAGE_POOL_2D, t.dtype,
                requantRuleFor(p, BuiltinOp::AVERAGE_POOL_2D, t.dtype));
        pt.rule = "integer division";
        int32_t avg = 0;
        if (count) {
            // reference/integer_ops/pooling.h: (acc +- count/2) / count, ties away from zero;
            // uint8 sums are never negative (reference/pooling.h adds count/2 only).
            const bool unsigned_form = t.dtype == DType::UInt8;
            avg = unsigned_form || acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
            addStep(pt.steps, "scaled", "sum / count rounded",
                    unsigned_form ? "(sum + count/2) / count"
                                  : "(sum +- count/2) / count, ties away from zero",
                    StepValue::ofInt(avg), kStageScaled + 3, true);
        }
        pt.output = std::clamp(avg, range.min, range.max);
        addStep(pt.steps, "clamped", "clamp to activation range",
                strFormat("[{}, {}]", range.min, range.max), StepValue::ofInt(pt.output),
                kStageClamp, true);
        pt.output_real = static_cast<double>(out_scale) * (pt.output - out_zp);
        t.profiles.push_back(std::move(pt));
    }
    return {};
}

bool supportedOp(BuiltinOp op) {
    switch (op) {
        case BuiltinOp::CONV_2D:
        case BuiltinOp::DEPTHWISE_CONV_2D:
        case BuiltinOp::FULLY_CONNECTED:
        case BuiltinOp::ADD:
        case BuiltinOp::SUB:
        case BuiltinOp::MUL:
        case BuiltinOp::MEAN:
        case BuiltinOp::AVERAGE_POOL_2D:
            return true;
        default:
            return false;
    }
}

struct Located {
    OpId op;
    const model::Operator* op_ptr = nullptr;
};

Result<Located> locate(const model::Model& model, SubgraphId subgraph, TensorId output) {
    if (subgraph.value < 0 || static_cast<size_t>(subgraph.value) >= model.subgraphs.size())
        return fail(strFormat("subgraph {} does not exist", subgraph.value));
    const auto& sg = model.subgraphs[static_cast<size_t>(subgraph.value)];
    if (!output.valid() || static_cast<size_t>(output.value) >= sg.tensors.size())
        return fail(strFormat("tensor {} does not exist (the subgraph has {} tensors)",
                              output.value, sg.tensors.size()));
    const auto& tensor = sg.tensor(output);
    for (size_t i = 0; i < sg.operators.size(); ++i) {
        const auto& op = sg.operators[i];
        if (op.outputs.empty() || op.outputs[0] != output) continue;
        Error e;
        e.tensor_index = output.value;
        e.tensor_name = tensor.name;
        e.op_index = static_cast<int32_t>(i);
        if (!supportedOp(op.opcode)) {
            e.message = strFormat(
                "tensor {} '{}' is produced by op {} ({}), which the trace does not support "
                "(CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, ADD, SUB, MUL, MEAN, "
                "AVERAGE_POOL_2D)",
                output.value, tensor.name, i, op.name());
            return std::unexpected(e);
        }
        if (!kernels::isQuantizedInt(tensor.dtype) || !tensor.quantization.isQuantized()) {
            e.message = strFormat("tensor {} '{}' ({}) is not a quantized integer tensor",
                                  output.value, tensor.name, model::dtypeName(tensor.dtype));
            return std::unexpected(e);
        }
        Located l;
        l.op = OpId{static_cast<int32_t>(i)};
        l.op_ptr = &op;
        return l;
    }
    Error e;
    e.tensor_index = output.value;
    e.tensor_name = tensor.name;
    e.message = strFormat("tensor {} '{}' is not the output of an op (input or constant)",
                          output.value, tensor.name);
    return std::unexpected(e);
}

void findParting(ElementTrace& t) {
    for (const auto& pt : t.profiles)
        if (pt.output != t.profiles.front().output) t.outputs_differ = true;
    struct Seen {
        int stage;
        const TraceStep* first;
        size_t profile;
    };
    std::optional<std::pair<int, std::string>> best;
    std::map<std::string, Seen> seen;
    std::map<std::string, bool> differs;
    for (size_t pi = 0; pi < t.profiles.size(); ++pi)
        for (const auto& s : t.profiles[pi].steps) {
            if (!s.comparable) continue;
            auto it = seen.find(s.key);
            if (it == seen.end()) {
                seen.emplace(s.key, Seen{s.stage, &s, pi});
                continue;
            }
            if (!(it->second.first->value == s.value)) differs[s.key] = true;
        }
    for (const auto& [key, d] : differs) {
        const int stage = seen[key].stage;
        if (!best || stage < best->first) best = std::make_pair(stage, key);
    }
    if (!best) return;
    Parting p;
    p.key = best->second;
    p.stage = best->first;
    p.label = seen[p.key].first->label;
    for (auto& pt : t.profiles)
        for (auto& s : pt.steps)
            if (s.key == p.key) {
                s.parting = true;
                p.profiles.push_back(pt.profile);
            }
    t.parting = std::move(p);
}

}  // namespace

std::string StepValue::toString() const {
    switch (kind) {
        case Kind::Integer:
            return std::to_string(integer);
        case Kind::Real:
            return realString(real);
        case Kind::Text:
            return text;
    }
    return text;
}

const ProfileTrace* ElementTrace::profile(RoundingProfile p) const {
    for (const auto& pt : profiles)
        if (pt.profile == p) return &pt;
    return nullptr;
}

Result<void> traceSupported(const model::Model& model, SubgraphId subgraph, TensorId output) {
    auto l = locate(model, subgraph, output);
    if (!l) return std::unexpected(l.error());
    return {};
}

Result<ElementTrace> traceElement(const model::Model& model, SubgraphId subgraph, TensorId output,
                                  std::span<const int32_t> element, const TensorLookup& values,
                                  std::span<const RoundingProfile> profiles) {
    auto l = locate(model, subgraph, output);
    if (!l) return std::unexpected(l.error());
    const auto& sg = model.subgraphs[static_cast<size_t>(subgraph.value)];
    const auto& tensor = sg.tensor(output);
    const TensorValue* out_value = values ? values(output) : nullptr;
    if (out_value && !out_value->valid()) out_value = nullptr;
    const std::vector<int32_t> shape = out_value ? out_value->shape() : tensor.shape;
    if (element.size() != shape.size())
        return fail(strFormat("element has {} coordinates; tensor {} '{}' has shape [{}]",
                              element.size(), output.value, tensor.name, shapeString(shape)));
    for (size_t i = 0; i < shape.size(); ++i)
        if (element[i] < 0 || element[i] >= shape[i])
            return fail(strFormat("coordinate {} (= {}) is outside [0, {}) of tensor {} '{}' [{}]",
                                  i, element[i], shape[i], output.value, tensor.name,
                                  shapeString(shape)));
    ElementTrace t;
    t.op = l->op;
    t.op_name = l->op_ptr->name();
    t.output = output;
    t.output_name = tensor.name;
    t.dtype = tensor.dtype;
    t.element.assign(element.begin(), element.end());
    t.flat_index = ravel(element, shape);
    t.inputs = l->op_ptr->inputs;
    if (out_value) t.run_output = readInt(*out_value, t.flat_index);
    OpCtx ctx{model, sg, *l->op_ptr, l->op, values, profiles, {}};
    Result<void> r;
    switch (l->op_ptr->opcode) {
        case BuiltinOp::CONV_2D:
        case BuiltinOp::DEPTHWISE_CONV_2D:
            if (t.element.size() != 4) return ctx.fail("output must be 4-D");
            [[fallthrough]];
        case BuiltinOp::FULLY_CONNECTED:
            r = traceConvLike(ctx, t);
            break;
        case BuiltinOp::ADD:
        case BuiltinOp::SUB:
        case BuiltinOp::MUL:
            r = traceBinary(ctx, t);
            break;
        case BuiltinOp::MEAN:
            r = traceMean(ctx, t);
            break;
        case BuiltinOp::AVERAGE_POOL_2D:
            if (t.element.size() != 4) return ctx.fail("output must be 4-D");
            r = traceAveragePool(ctx, t);
            break;
        default:
            return ctx.fail("not supported");
    }
    if (!r) {
        Error e = r.error();
        e.tensor_index = output.value;
        e.tensor_name = tensor.name;
        return std::unexpected(std::move(e));
    }
    findParting(t);
    return t;
}

Result<ElementTrace> traceElement(const model::Model& model, SubgraphId subgraph, TensorId output,
                                  std::span<const int32_t> element, const RunResult& run,
                                  std::span<const RoundingProfile> profiles) {
    TensorLookup lookup = [&run](TensorId id) -> const TensorValue* {
        if (!id.valid() || static_cast<size_t>(id.value) >= run.values.size()) return nullptr;
        const auto& v = run.values[static_cast<size_t>(id.value)];
        return v.valid() ? &v : nullptr;
    };
    return traceElement(model, subgraph, output, element, lookup, profiles);
}

}  // namespace qs::engine::trace
