// TRANSPOSE_CONV kernels. Prepare follows tflite-micro's
// tensorflow/lite/micro/kernels/transpose_conv.cc (padding, per-channel multipliers) and
// TFLite's tensorflow/lite/kernels/transpose_conv.cc (output shape from input 0); eval runs
// the reference scatter loops of reference/transpose_conv.h and
// reference/integer_ops/transpose_conv.h.
#include "engine/kernels/transpose_conv.h"

#include "model/str_format.h"

namespace qs::engine::kernels {

namespace {

using model::DType;

// Accumulation bounds: int8 products are below 2^15 (|filter| <= 128, |input + offset| <=
// 255), uint8 below 2^16; each output position receives at most filter_h * filter_w *
// in_channels of them, so int32 holds any filter below 2^15 taps, as TFLite assumes. int16x8
// products are below 2^22 and go to an int64 scratch.
template <class In, class W, class Bias, class Acc, RequantRule R>
void transposeConvImpl(const TransposeConvParams& p, const Shape4& in_s, const In* in,
                       const Shape4& f_s, const W* filter, const Bias* bias, const Shape4& out_s,
                       In* out, std::vector<Acc>& scratch) {
    scratch.assign(static_cast<size_t>(out_s.size()), Acc{0});
    const int32_t in_c = in_s.c, out_c = out_s.c;
    for (int32_t b = 0; b < in_s.n; ++b)
        for (int32_t iy = 0; iy < in_s.h; ++iy)
            for (int32_t ix = 0; ix < in_s.w; ++ix)
                for (int32_t ic = 0; ic < in_c; ++ic) {
                    const int32_t oy0 = iy * p.stride_height - p.padding_height;
                    const int32_t ox0 = ix * p.stride_width - p.padding_width;
                    Acc x;
                    if constexpr (std::is_floating_point_v<Acc> || std::is_same_v<In, int16_t>)
                        x = static_cast<Acc>(in[in_s.offset(b, iy, ix, ic)]);
                    else
                        x = static_cast<Acc>(in[in_s.offset(b, iy, ix, ic)]) + p.input_offset;
                    for (int32_t fy = 0; fy < f_s.h; ++fy) {
                        const int32_t oy = oy0 + fy;
                        if (oy < 0 || oy >= out_s.h) continue;
                        for (int32_t fx = 0; fx < f_s.w; ++fx) {
                            const int32_t ox = ox0 + fx;
                            if (ox < 0 || ox >= out_s.w) continue;
                            Acc* acc = scratch.data() + out_s.offset(b, oy, ox, 0);
                            for (int32_t oc = 0; oc < out_c; ++oc) {
                                Acc w = static_cast<Acc>(filter[f_s.offset(oc, fy, fx, ic)]);
                                if constexpr (std::is_same_v<W, uint8_t>) w += p.weights_offset;
                                acc[oc] += x * w;
                            }
                        }
                    }
                }
    const int64_t pixels = int64_t{out_s.n} * out_s.h * out_s.w;
    for (int64_t px = 0; px < pixels; ++px)
        for (int32_t oc = 0; oc < out_c; ++oc) {
            const size_t i = static_cast<size_t>(px * out_c + oc);
            Acc acc = scratch[i];
            if (bias) acc += static_cast<Acc>(bias[oc]);
            if constexpr (std::is_floating_point_v<Acc>) {
                out[i] = clampF(acc, {p.float_activation_min, p.float_activation_max});
            } else {
                const size_t ch = p.output_multiplier.size() > 1 ? static_cast<size_t>(oc) : 0;
                int32_t v;
                if constexpr (std::is_same_v<Acc, int64_t>)
                    v = rq::multiply64(acc, p.output_multiplier[ch], p.output_shift[ch]);
                else
                    v = requantize<R>(acc, p.output_multiplier[ch], p.output_shift[ch]);
                v = std::clamp(v + p.output_offset, p.quantized_activation_min,
                               p.quantized_activation_max);
                out[i] = static_cast<In>(v);
            }
        }
}

}  // namespace

void transposeConvReference(const TransposeConvParams& p, const Shape4& in_s, const int8_t* in,
                            const Shape4& f_s, const int8_t* filter, const int32_t* bias,
                            const Shape4& out_s, int8_t* out, std::vector<int32_t>& scratch) {
    withRule(p.rule, [&](auto r) {
        transposeConvImpl<int8_t, int8_t, int32_t, int32_t, decltype(r)::value>(
            p, in_s, in, f_s, filter, bias, out_s, out, scratch);
    });
}
void transposeConvReference(const TransposeConvParams& p, const Shape4& in_s, const uint8_t* in,
                            const Shape4& f_s, const uint8_t* filter, const int32_t* bias,
                            const Shape4& out_s, uint8_t* out, std::vector<int32_t>& scratch) {
    withRule(p.rule, [&](auto r) {
        transposeConvImpl<uint8_t, uint8_t, int32_t, int32_t, decltype(r)::value>(
            p, in_s, in, f_s, filter, bias, out_s, out, scratch);
    });
}
void transposeConvReference(const TransposeConvParams& p, const Shape4& in_s, const int16_t* in,
                            const Shape4& f_s, const int8_t* filter, const int64_t* bias,
                            const Shape4& out_s, int16_t* out, std::vector<int64_t>& scratch) {
    transposeConvImpl<int16_t, int8_t, int64_t, int64_t, RequantRule::DoubleRounding>(
        p, in_s, in, f_s, filter, bias, out_s, out, scratch);
}
void transposeConvReference(const TransposeConvParams& p, const Shape4& in_s, const float* in,
                            const Shape4& f_s, const float* filter, const float* bias,
                            const Shape4& out_s, float* out, std::vector<float>& scratch) {
    transposeConvImpl<float, float, float, float, RequantRule::DoubleRounding>(
        p, in_s, in, f_s, filter, bias, out_s, out, scratch);
}

namespace {

// Inputs: 0 output shape (int32 [4]), 1 filter, 2 input, 3 bias (optional).
class TransposeConvKernel final : public Kernel {
public:
    Result<void> prepare(PrepareContext& ctx) override {
        const auto* o = ctx.options<model::TransposeConvOptions>();
        const TensorInfo* shape = ctx.input(0);
        const TensorInfo* filter = ctx.input(1);
        const TensorInfo* input = ctx.input(2);
        const TensorInfo* bias = ctx.input(3);
        if (!o || !shape || !filter || !input || ctx.numOutputs() < 1)
            return ctx.fail("needs output shape, filter, input and options");
        if (input->rank() != 4 || filter->rank() != 4)
            return ctx.fail("input and filter must be 4-D");
        if (shape->dtype != DType::Int32 || shape->numElements() != 4)
            return ctx.fail("output shape must be an int32 tensor of 4 values");
        TensorInfo& output = ctx.output(0);
        // TFLite resizes the output from input 0 (kernels/transpose_conv.cc ResizeTensor);
        // when that tensor is only known at run time (seanet_transpose_conv0 feeds it as a
        // graph input) the shape stored in the model stands in and eval checks the data.
        if (shape->isConstant()) {
            auto s = shape->constant->data<int32_t>();
            output.shape.assign(s.begin(), s.end());
        } else {
            m_check_shape = true;
        }
        if (output.rank() != 4) return ctx.fail("the output shape is unknown before running");
        for (int32_t d : output.shape)
            if (d <= 0) return ctx.fail("the output shape has a non-positive dimension");
        m_in_s = Shape4::fromShape(input->shape);
        m_f_s = Shape4::fromShape(filter->shape);
        m_out_s = Shape4::fromShape(output.shape);
        if (m_f_s.c != m_in_s.c)
            return ctx.fail(
                strFormat("filter depth {} differs from input depth {}", m_f_s.c, m_in_s.c));
        if (m_f_s.n != m_out_s.c)
            return ctx.fail(
                strFormat("filter has {} output channels, output {}", m_f_s.n, m_out_s.c));
        if (m_in_s.n != m_out_s.n) return ctx.fail("batch differs between input and output");
        if (bias && bias->numElements() != m_out_s.c)
            return ctx.fail("bias size differs from the output channel count");
        auto& p = m_params;
        p.stride_width = o->stride_w;
        p.stride_height = o->stride_h;
        if (p.stride_width <= 0 || p.stride_height <= 0) return ctx.fail("stride must be >= 1");
        // tflite-micro transpose_conv.cc CalculateOpData: ComputePaddingHeightWidth with the
        // *output* size as the "input" of a forward convolution (dilation 1).
        p.padding_height =
            computePadding(p.stride_height, 1, m_out_s.h, m_f_s.h,
                           computeOutSize(o->padding, m_out_s.h, m_f_s.h, p.stride_height, 1));
        p.padding_width =
            computePadding(p.stride_width, 1, m_out_s.w, m_f_s.w,
                           computeOutSize(o->padding, m_out_s.w, m_f_s.w, p.stride_width, 1));

        m_type = input->dtype;
        if (output.dtype != m_type) return ctx.fail("output type differs from input type");
        if (m_type == DType::Float32) {
            if (filter->dtype != DType::Float32 || (bias && bias->dtype != DType::Float32))
                return ctx.fail("float32 input needs float32 filter and bias");
            auto r = activationRangeFloat(o->fused_activation_function);
            p.float_activation_min = r.min;
            p.float_activation_max = r.max;
            return {};
        }
        if (!isQuantizedInt(m_type))
            return ctx.fail(strFormat("input type {} is not supported", model::dtypeName(m_type)));
        const DType want_filter = m_type == DType::UInt8 ? DType::UInt8 : DType::Int8;
        if (filter->dtype != want_filter) return ctx.fail("filter type does not match the input");
        if (bias) {
            const bool ok = bias->dtype == DType::Int32 ||
                            (m_type == DType::Int16 && bias->dtype == DType::Int64);
            if (!ok)
                return ctx.fail(
                    strFormat("unsupported bias type {}", model::dtypeName(bias->dtype)));
        }
        if (m_type == DType::Int16 && (input->zeroPoint() != 0 || output.zeroPoint() != 0))
            return ctx.fail("int16x8 needs zero points of 0");
        if (auto r = populateChannelMultipliers(ctx, *input, *filter, output, m_out_s.c,
                                                p.output_multiplier, p.output_shift);
            !r)
            return r;
        p.input_offset = -input->zeroPoint();
        p.weights_offset = -filter->zeroPoint();
        p.output_offset = output.zeroPoint();
        auto range = activationRangeQuantized(o->fused_activation_function, m_type, output.scale(),
                                              output.zeroPoint());
        p.quantized_activation_min = range.min;
        p.quantized_activation_max = range.max;
        p.rule = ctx.rule(m_type);
        return {};
    }

    void eval(EvalContext& ctx) override {
        if (m_check_shape) {
            auto s = ctx.input(0).data<int32_t>();
            const int32_t want[4] = {m_out_s.n, m_out_s.h, m_out_s.w, m_out_s.c};
            if (!std::equal(s.begin(), s.end(), want)) {
                ctx.fail(
                    strFormat("the output shape input is [{},{},{},{}] but the model "
                              "declares [{}]; dynamic output shapes are not supported",
                              s[0], s[1], s[2], s[3], shapeString(want)));
                return;
            }
        }
        const TensorValue& filter = ctx.input(1);
        const TensorValue& input = ctx.input(2);
        const TensorValue* bias = ctx.hasInput(3) ? &ctx.input(3) : nullptr;
        TensorValue& output = ctx.output(0);
        const auto& p = m_params;
        switch (m_type) {
            case DType::Float32:
                transposeConvReference(p, m_in_s, in<float>(input), m_f_s, in<float>(filter),
                                       bias ? in<float>(*bias) : nullptr, m_out_s,
                                       out<float>(output), m_scratch_f);
                break;
            case DType::Int8:
                transposeConvReference(p, m_in_s, in<int8_t>(input), m_f_s, in<int8_t>(filter),
                                       bias ? in<int32_t>(*bias) : nullptr, m_out_s,
                                       out<int8_t>(output), m_scratch32);
                break;
            case DType::UInt8:
                transposeConvReference(p, m_in_s, in<uint8_t>(input), m_f_s, in<uint8_t>(filter),
                                       bias ? in<int32_t>(*bias) : nullptr, m_out_s,
                                       out<uint8_t>(output), m_scratch32);
                break;
            case DType::Int16: {
                const int64_t* b = nullptr;
                if (bias && bias->dtype() == DType::Int64) {
                    b = in<int64_t>(*bias);
                } else if (bias) {
                    // TFLM widens a narrower bias into an int64 buffer the same way.
                    auto b32 = bias->data<int32_t>();
                    m_bias64.assign(b32.begin(), b32.end());
                    b = m_bias64.data();
                }
                transposeConvReference(p, m_in_s, in<int16_t>(input), m_f_s, in<int8_t>(filter), b,
                                       m_out_s, out<int16_t>(output), m_scratch64);
                break;
            }
            default:
                break;
        }
    }

private:
    TransposeConvParams m_params;
    Shape4 m_in_s, m_f_s, m_out_s;
    DType m_type = DType::Float32;
    bool m_check_shape = false;
    std::vector<int32_t> m_scratch32;
    std::vector<int64_t> m_scratch64;
    std::vector<float> m_scratch_f;
    std::vector<int64_t> m_bias64;
};

}  // namespace
}  // namespace qs::engine::kernels

namespace qs::engine {
void registerKernels_transpose_conv(KernelRegistry& r) {
    r.add(model::BuiltinOp::TRANSPOSE_CONV, &makeKernel<kernels::TransposeConvKernel>);
}
}  // namespace qs::engine
