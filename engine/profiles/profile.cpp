#include "engine/profiles/profile.h"

namespace qs::engine {

std::string_view profileName(RoundingProfile p) {
    switch (p) {
        case RoundingProfile::Reference:
            return "reference";
        case RoundingProfile::SingleRounding:
            return "single-rounding";
        case RoundingProfile::Xnnpack:
            return "xnnpack";
        case RoundingProfile::Builtin:
            return "builtin";
    }
    return "reference";
}

std::optional<RoundingProfile> parseProfile(std::string_view name) {
    for (auto p : kAllProfiles)
        if (profileName(p) == name) return p;
    return std::nullopt;
}

std::string_view profileOracle(RoundingProfile p) {
    switch (p) {
        case RoundingProfile::Reference:
            return "tflm";
        case RoundingProfile::SingleRounding:
            return "tflm_single_rounding";
        case RoundingProfile::Xnnpack:
            return "litert";
        case RoundingProfile::Builtin:
            return "tflite_builtin";
    }
    return "tflm";
}

}  // namespace qs::engine
