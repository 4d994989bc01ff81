// The scalar int32 subset of gemmlowp's fixedpoint/fixedpoint.h that TFLite's quantized
// softmax (and later LOGISTIC/TANH) depend on, re-implemented: a raw int32 with a
// compile-time number of integer bits. Arithmetic matches gemmlowp bit for bit.
#pragma once

#include <cstdint>
#include <limits>

#include "engine/profiles/requantize.h"

namespace qs::engine::fp {

template <int IntegerBits>
struct Fixed {
    static constexpr int kIntegerBits = IntegerBits;
    static constexpr int kFractionalBits = 31 - IntegerBits;
    int32_t raw = 0;

    static constexpr Fixed fromRaw(int32_t r) { return Fixed{r}; }
    static constexpr Fixed zero() { return Fixed{0}; }
    // gemmlowp One(): 2^kFractionalBits, or INT32_MAX when there are no integer bits.
    static constexpr Fixed one() {
        return Fixed{IntegerBits == 0 ? std::numeric_limits<int32_t>::max()
                                      : static_cast<int32_t>(int32_t{1} << kFractionalBits)};
    }
    // gemmlowp ConstantPOT<Exponent>(): 2^Exponent.
    template <int Exponent>
    static constexpr Fixed constantPOT() {
        return Fixed{static_cast<int32_t>(int32_t{1} << (kFractionalBits + Exponent))};
    }
};

// Plain int32 add/sub as in gemmlowp (wraps; callers keep values in range).
template <int I>
Fixed<I> operator+(Fixed<I> a, Fixed<I> b) {
    return Fixed<I>{
        static_cast<int32_t>(static_cast<uint32_t>(a.raw) + static_cast<uint32_t>(b.raw))};
}
template <int I>
Fixed<I> operator-(Fixed<I> a, Fixed<I> b) {
    return Fixed<I>{
        static_cast<int32_t>(static_cast<uint32_t>(a.raw) - static_cast<uint32_t>(b.raw))};
}
// Product of Qa and Qb is Q(a+b): SaturatingRoundingDoublingHighMul of the raw values.
template <int A, int B>
Fixed<A + B> operator*(Fixed<A> a, Fixed<B> b) {
    return Fixed<A + B>{rq::saturatingRoundingDoublingHighMul(a.raw, b.raw)};
}

// gemmlowp SaturatingRoundingMultiplyByPOT<Exponent>.
template <int Exponent>
int32_t saturatingRoundingMultiplyByPOT(int32_t x) {
    if constexpr (Exponent > 0)
        return rq::saturatingLeftShift(x, Exponent);
    else if constexpr (Exponent < 0)
        return rq::roundingDivideByPOT(x, -Exponent);
    else
        return x;
}

// gemmlowp Rescale<Dst>(x): same real value with another number of integer bits.
template <int Dst, int Src>
Fixed<Dst> rescale(Fixed<Src> x) {
    return Fixed<Dst>{saturatingRoundingMultiplyByPOT<Src - Dst>(x.raw)};
}

// gemmlowp RoundingHalfSum: (a + b) / 2 rounded half away from zero, in 64 bits.
inline int32_t roundingHalfSum(int32_t a, int32_t b) {
    const int64_t sum = int64_t{a} + int64_t{b};
    const int64_t sign = sum >= 0 ? 1 : -1;
    return static_cast<int32_t>((sum + sign) / 2);
}

// gemmlowp exp_on_interval_between_negative_one_quarter_and_0_excl: Taylor series around -1/8.
inline Fixed<0> expOnIntervalNegQuarterTo0(Fixed<0> a) {
    using F = Fixed<0>;
    const F constant_term = F::fromRaw(1895147668);     // exp(-1/8) in Q0.31
    const F constant_1_over_3 = F::fromRaw(715827883);  // 1/3 in Q0.31
    const F x = a + F::constantPOT<-3>();
    const F x2 = x * x;
    const F x3 = x2 * x;
    const F x4 = x2 * x2;
    const F x4_over_4 = F::fromRaw(saturatingRoundingMultiplyByPOT<-2>(x4.raw));
    const F poly = F::fromRaw(
        saturatingRoundingMultiplyByPOT<-1>((((x4_over_4 + x3) * constant_1_over_3) + x2).raw));
    return constant_term + constant_term * (x + poly);
}

// gemmlowp exp_on_negative_values for a Q(I) input <= 0: split off the quarter remainder,
// evaluate it with the polynomial, then multiply in exp(-2^k) for each set bit of the rest.
template <int I>
Fixed<0> expOnNegativeValues(Fixed<I> a) {
    using InputF = Fixed<I>;
    using ResultF = Fixed<0>;
    constexpr int kFractionalBits = InputF::kFractionalBits;
    const InputF kOneQuarter = InputF::template constantPOT<-2>();
    const InputF mask = kOneQuarter - InputF::fromRaw(1);
    const InputF a_mod_quarter_minus_one_quarter = InputF::fromRaw(a.raw & mask.raw) - kOneQuarter;
    ResultF result = expOnIntervalNegQuarterTo0(rescale<0>(a_mod_quarter_minus_one_quarter));
    const int32_t remainder = (a_mod_quarter_minus_one_quarter - a).raw;
    auto barrel = [&](int exponent, int32_t multiplier) {
        if (I > exponent) {
            const int shift = kFractionalBits + exponent;
            if (remainder & (int32_t{1} << shift)) result = result * ResultF::fromRaw(multiplier);
        }
    };
    barrel(-2, 1672461947);  // exp(-1/4)
    barrel(-1, 1302514674);  // exp(-1/2)
    barrel(+0, 790015084);   // exp(-1)
    barrel(+1, 290630308);   // exp(-2)
    barrel(+2, 39332535);    // exp(-4)
    barrel(+3, 720401);      // exp(-8)
    barrel(+4, 242);         // exp(-16)
    if constexpr (I > 5) {
        const int32_t clamp_raw = -(int32_t{1} << (kFractionalBits + 5));  // -32
        if (a.raw < clamp_raw) result = ResultF::zero();
    }
    if (a.raw == 0) result = ResultF::one();
    return result;
}

// gemmlowp one_over_one_plus_x_for_x_in_0_1: three Newton-Raphson steps on 1/(1+x).
inline Fixed<0> oneOverOnePlusXForXIn01(Fixed<0> a) {
    using F0 = Fixed<0>;
    using F2 = Fixed<2>;
    const F0 half_denominator = F0::fromRaw(roundingHalfSum(a.raw, F0::one().raw));
    const F2 constant_48_over_17 = F2::fromRaw(1515870810);
    const F2 constant_neg_32_over_17 = F2::fromRaw(-1010580540);
    F2 x = constant_48_over_17 + half_denominator * constant_neg_32_over_17;
    for (int i = 0; i < 3; ++i) {
        const F2 half_denominator_times_x = half_denominator * x;
        const F2 one_minus_half_denominator_times_x = F2::one() - half_denominator_times_x;
        x = x + rescale<2>(x * one_minus_half_denominator_times_x);
    }
    // ExactMulByPot<-1> reinterprets Q2 as Q1 (halves the value), then back to Q0.
    return rescale<0>(Fixed<1>::fromRaw(x.raw));
}

}  // namespace qs::engine::fp
