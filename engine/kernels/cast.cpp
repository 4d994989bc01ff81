// CAST between numeric types, bool and float16 (tensorflow/lite/kernels/cast.cc; tflite-micro
// micro/kernels/cast.cc handles a subset with plain static_casts). Quantization parameters
// are ignored: CAST converts stored values, as TFLite does.
//
// Float -> integer follows cast.cc's copyCast overloads:
//   float -> int32   saturates ([INT32_MIN, nextafter(2^31, 0)], above -> INT32_MAX, NaN ->
//                    INT32_MAX because the `a <= max` test fails);
//   float -> int16 / uint8   clamp to the type's range, then truncate toward zero;
//   everything else  a plain static_cast, which truncates toward zero and whose out-of-range
//                    results are what g++ emits on x86-64: cvttss2si/cvttsd2si into 32 bits
//                    (INT32_MIN when out of range or NaN) for int8/uint16, into 64 bits for
//                    uint32/int64, keeping the low bits.
// Integer -> integer wraps (two's complement), -> bool is `!= 0`, -> float16 goes through
// float and rounds to nearest even (fp16_ieee_from_fp32_value).
#include <bit>

#include "engine/kernels/ops_util.h"

namespace qs::engine::kernels {

namespace {

using model::DType;

// IEEE half <-> float (FP16 library semantics: exact widening; narrowing rounds to nearest
// even, overflows to infinity, keeps NaN a NaN).
float halfToFloat(uint16_t h) {
    const uint32_t sign = uint32_t{h & 0x8000u} << 16;
    const uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ffu;
    if (exp == 0x1f) return std::bit_cast<float>(sign | 0x7f800000u | (man << 13));
    if (exp != 0) return std::bit_cast<float>(sign | ((exp + 112) << 23) | (man << 13));
    const float mag = std::ldexp(static_cast<float>(man), -24);  // subnormal or zero
    return sign ? -mag : mag;
}

uint16_t floatToHalf(float f) {
    const uint32_t x = std::bit_cast<uint32_t>(f);
    const auto sign = static_cast<uint16_t>((x >> 16) & 0x8000u);
    const uint32_t ax = x & 0x7fffffffu;
    if (ax > 0x7f800000u) return static_cast<uint16_t>(sign | 0x7e00u);   // NaN
    if (ax >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // rounds to inf
    if (ax < 0x38800000u) {
        // Result is subnormal (or zero): round |f| * 2^24 to the nearest integer, ties even.
        const float scaled = std::bit_cast<float>(ax) * 0x1p24f;
        return static_cast<uint16_t>(sign | static_cast<uint16_t>(std::nearbyint(scaled)));
    }
    // Normal: drop 13 mantissa bits with round-to-nearest-even.
    const uint32_t rounded = ax + 0xfffu + ((ax >> 13) & 1u);
    return static_cast<uint16_t>(sign | ((rounded - 0x38000000u) >> 13));
}

// x86-64 truncating conversions (cvttss2si / cvttsd2si): out of range or NaN gives the
// "integer indefinite" value INT_MIN of the destination width.
int32_t cvtt32(double v) {
    if (!(v > -2147483649.0 && v < 2147483648.0)) return std::numeric_limits<int32_t>::min();
    return static_cast<int32_t>(v);
}
int64_t cvtt64(double v) {
    if (!(v >= -0x1p63 && v < 0x1p63)) return std::numeric_limits<int64_t>::min();
    return static_cast<int64_t>(v);
}

// One value in the widest form of its kind.
struct Scalar {
    bool is_float = false;
    double f = 0.0;  // float sources (float16 widened exactly)
    int64_t i = 0;   // integer and bool sources (uint64 is not supported)
};

Scalar load(DType t, const uint8_t* p) {
    Scalar s;
    switch (t) {
        case DType::Float32:
            s.is_float = true, s.f = *reinterpret_cast<const float*>(p);
            break;
        case DType::Float64:
            s.is_float = true, s.f = *reinterpret_cast<const double*>(p);
            break;
        case DType::Float16:
            s.is_float = true, s.f = halfToFloat(*reinterpret_cast<const uint16_t*>(p));
            break;
        case DType::Int8:
            s.i = *reinterpret_cast<const int8_t*>(p);
            break;
        case DType::UInt8:
            s.i = *p;
            break;
        case DType::Bool:
            s.i = *p != 0;
            break;
        case DType::Int16:
            s.i = *reinterpret_cast<const int16_t*>(p);
            break;
        case DType::UInt16:
            s.i = *reinterpret_cast<const uint16_t*>(p);
            break;
        case DType::Int32:
            s.i = *reinterpret_cast<const int32_t*>(p);
            break;
        case DType::UInt32:
            s.i = *reinterpret_cast<const uint32_t*>(p);
            break;
        case DType::Int64:
            s.i = *reinterpret_cast<const int64_t*>(p);
            break;
        default:
            break;
    }
    return s;
}

template <class T>
void put(uint8_t* p, T v) {
    std::memcpy(p, &v, sizeof(T));
}

void store(DType from, DType to, const Scalar& s, uint8_t* p) {
    // A float32 source is narrowed to float first: cast.cc works on the float value.
    const bool f32 = from == DType::Float32 || from == DType::Float16;
    const float fv = static_cast<float>(s.f);
    switch (to) {
        case DType::Float32:
            put<float>(p, s.is_float ? fv : static_cast<float>(s.i));
            break;
        case DType::Float64:
            put<double>(p, s.is_float ? s.f : static_cast<double>(s.i));
            break;
        case DType::Float16:
            put<uint16_t>(p, floatToHalf(s.is_float ? fv : static_cast<float>(s.i)));
            break;
        case DType::Bool:
            put<uint8_t>(p, s.is_float ? (s.f != 0.0) : (s.i != 0));
            break;
        case DType::Int8:
            put<int8_t>(p, static_cast<int8_t>(s.is_float ? cvtt32(s.f) : s.i));
            break;
        case DType::UInt8:
            if (s.is_float && from == DType::Float32)
                put<uint8_t>(p, static_cast<uint8_t>(cvtt32(std::max(std::min(fv, 255.0f), 0.0f))));
            else
                put<uint8_t>(p, static_cast<uint8_t>(s.is_float ? cvtt32(s.f) : s.i));
            break;
        case DType::Int16:
            if (s.is_float && from == DType::Float32)
                put<int16_t>(
                    p, static_cast<int16_t>(cvtt32(std::max(std::min(fv, 32767.0f), -32768.0f))));
            else
                put<int16_t>(p, static_cast<int16_t>(s.is_float ? cvtt32(s.f) : s.i));
            break;
        case DType::UInt16:
            put<uint16_t>(p, static_cast<uint16_t>(s.is_float ? cvtt32(s.f) : s.i));
            break;
        case DType::Int32:
            if (s.is_float && f32 && from == DType::Float32) {
                const float max_int_float = std::nextafterf(2147483648.0f, 0.0f);
                put<int32_t>(p, fv <= max_int_float
                                    ? static_cast<int32_t>(std::max(fv, -2147483648.0f))
                                    : std::numeric_limits<int32_t>::max());
            } else {
                put<int32_t>(p, static_cast<int32_t>(s.is_float ? cvtt32(s.f) : s.i));
            }
            break;
        case DType::UInt32:
            put<uint32_t>(p, static_cast<uint32_t>(s.is_float ? cvtt64(s.f) : s.i));
            break;
        case DType::Int64:
            put<int64_t>(p, s.is_float ? cvtt64(s.f) : s.i);
            break;
        default:
            break;
    }
}

bool castable(DType t) {
    switch (t) {
        case DType::Float32:
        case DType::Float64:
        case DType::Float16:
        case DType::Int8:
        case DType::UInt8:
        case DType::Bool:
        case DType::Int16:
        case DType::UInt16:
        case DType::Int32:
        case DType::UInt32:
        case DType::Int64:
            return true;
        default:
            return false;
    }
}

class CastKernel final : public Kernel {
public:
    Result<void> prepare(PrepareContext& ctx) override {
        const TensorInfo* input = ctx.input(0);
        if (!input || ctx.numOutputs() < 1) return ctx.fail("needs an input");
        TensorInfo& output = ctx.output(0);
        m_from = input->dtype;
        m_to = output.dtype;
        if (!castable(m_from) || !castable(m_to))
            return ctx.fail(strFormat("{} -> {} is not supported", model::dtypeName(m_from),
                                      model::dtypeName(m_to)));
        m_in_size = dtypeSize(m_from);
        m_out_size = dtypeSize(m_to);
        output.shape = input->shape;
        return {};
    }
    void eval(EvalContext& ctx) override {
        const auto* src = static_cast<const uint8_t*>(ctx.input(0).raw());
        auto* dst = static_cast<uint8_t*>(ctx.output(0).raw());
        const int64_t n = ctx.output(0).numElements();
        if (m_from == m_to) {
            std::memcpy(dst, src, static_cast<size_t>(n) * m_in_size);
            return;
        }
        for (int64_t i = 0; i < n; ++i)
            store(m_from, m_to, load(m_from, src + i * static_cast<int64_t>(m_in_size)),
                  dst + i * static_cast<int64_t>(m_out_size));
    }

private:
    DType m_from = DType::Float32, m_to = DType::Float32;
    size_t m_in_size = 4, m_out_size = 4;
};

}  // namespace
}  // namespace qs::engine::kernels

namespace qs::engine {
void registerKernels_cast(KernelRegistry& r) {
    r.add(model::BuiltinOp::CAST, &makeKernel<kernels::CastKernel>);
}
}  // namespace qs::engine
