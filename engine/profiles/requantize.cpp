#include "engine/profiles/requantize.h"

#include <cmath>

namespace qs::engine {

std::string_view requantRuleName(RequantRule r) {
    switch (r) {
        case RequantRule::DoubleRounding:
            return "double-rounding";
        case RequantRule::SingleRounding:
            return "single-rounding";
        case RequantRule::RuyX86:
            return "ruy-x86";
        case RequantRule::Fp32:
            return "xnnpack-fp32";
        case RequantRule::XnnpackAdd:
            return "xnnpack-add";
    }
    return "double-rounding";
}

int32_t requantize(RequantRule rule, int32_t x, int32_t quantized_multiplier, int shift) {
    return withRule(rule, [&](auto r) {
        return requantize<decltype(r)::value>(x, quantized_multiplier, shift);
    });
}

QuantizedMultiplier quantizeMultiplier(double real_multiplier, bool single_rounding) {
    QuantizedMultiplier out;
    if (real_multiplier == 0.0) return out;
    int shift = 0;
    const double q = std::frexp(real_multiplier, &shift);
    // std::round rounds half away from zero, as TfLiteRound does.
    auto q_fixed = static_cast<int64_t>(std::round(q * static_cast<double>(int64_t{1} << 31)));
    if (q_fixed == (int64_t{1} << 31)) {
        q_fixed /= 2;
        ++shift;
    }
    if (shift < -31) {
        shift = 0;
        q_fixed = 0;
    }
    if (single_rounding && shift > 30) {
        shift = 30;
        q_fixed = (int64_t{1} << 31) - 1;
    }
    out.multiplier = static_cast<int32_t>(q_fixed);
    out.shift = shift;
    return out;
}

QuantizedMultiplier xnnpackScale(float input_scale, float filter_scale, float output_scale) {
    // Every intermediate stays in float (FLT_EVAL_METHOD 0 on
    // x86-64 SSE and on wasm, where the litert oracle ran).
    const float product = input_scale * filter_scale;
    const float scale = product / output_scale;
    return {std::bit_cast<int32_t>(scale), 0};
}

}  // namespace qs::engine
