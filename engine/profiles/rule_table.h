// Which integer arithmetic each profile applies to each op and dtype, and which upstream file
// it follows. Exposed as data so the README and the GUI can show it; the kernels read their
// requantization rule from here in prepare (PrepareContext::rule).
#pragma once

#include <span>
#include <string_view>

#include "engine/profiles/profile.h"
#include "engine/profiles/requantize.h"
#include "model/dtype.h"
#include "model/op_code.h"

namespace qs::engine {

struct RuleEntry {
    RoundingProfile profile;
    model::BuiltinOp op;
    // Activation dtype the row applies to ("int8", "uint8", "int16", "float32"); "*" = any.
    std::string_view dtype;
    RequantRule rule;           // the int32 -> output requantization
    std::string_view upstream;  // repository:path of the kernel reproduced
    std::string_view note;      // anything besides the requantization rule (LUTs, float math)
};

// Every row; the first matching row (profile, op, dtype, then "*") wins.
std::span<const RuleEntry> ruleTable();
const RuleEntry* findRule(RoundingProfile profile, model::BuiltinOp op, model::DType dtype);
// The rule for (profile, op, dtype); falls back to the profile's default rule
// (double rounding for reference/builtin, single rounding for single-rounding/xnnpack).
RequantRule requantRuleFor(RoundingProfile profile, model::BuiltinOp op, model::DType dtype);

}  // namespace qs::engine
