// Rounding profiles: which runtime's integer arithmetic the engine reproduces. The profile is
// run-time data handed to every kernel's prepare step, never a compile-time switch.
#pragma once

#include <array>
#include <optional>
#include <string_view>

namespace qs::engine {

enum class RoundingProfile {
    // TFLite reference kernels as TFLite Micro builds them by default: double rounding
    // (gemmlowp SaturatingRoundingDoublingHighMul, then RoundingDivideByPOT).
    Reference,
    // The same kernels built with -DTFLITE_SINGLE_ROUNDING=1: one 64-bit product, one
    // rounding shift.
    SingleRounding,
    // LiteRT with the XNNPACK delegate.
    Xnnpack,
    // TFLite's own optimized CPU kernels without XNNPACK; int8/uint8 GEMMs go through ruy.
    Builtin,
};

inline constexpr std::array kAllProfiles = {RoundingProfile::Reference,
                                            RoundingProfile::SingleRounding,
                                            RoundingProfile::Xnnpack, RoundingProfile::Builtin};

// "reference", "single-rounding", "xnnpack", "builtin".
std::string_view profileName(RoundingProfile p);
std::optional<RoundingProfile> parseProfile(std::string_view name);
// The conformance oracle folder whose golden data the profile reproduces
// ("tflm", "tflm_single_rounding", "litert", "tflite_builtin").
std::string_view profileOracle(RoundingProfile p);

}  // namespace qs::engine
