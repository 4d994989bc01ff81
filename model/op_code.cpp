#include "model/op_code.h"

#include <algorithm>
#include <array>
#include <utility>

namespace qs::model {

namespace {

struct OpEntry {
    int32_t code;
    std::string_view name;
};

constexpr auto kOps = std::to_array<OpEntry>({
#define QS_X(name, code) {code, #name},
    QS_BUILTIN_OPS(QS_X)
#undef QS_X
});

// The X-macro list is dense and sorted (codes 0..N-1), so a code indexes the table directly.
constexpr bool denseAndSorted() {
    for (size_t i = 0; i < kOps.size(); ++i) {
        if (kOps[i].code != static_cast<int32_t>(i)) return false;
    }
    return true;
}
static_assert(denseAndSorted(), "QS_BUILTIN_OPS must list codes 0, 1, 2, ... in order");

}  // namespace

bool isKnownBuiltin(int32_t code) {
    return code >= 0 && static_cast<size_t>(code) < kOps.size();
}

std::string_view builtinOpName(BuiltinOp op) {
    const auto code = static_cast<int32_t>(op);
    if (!isKnownBuiltin(code)) return {};
    return kOps[static_cast<size_t>(code)].name;
}

std::optional<BuiltinOp> builtinOpFromName(std::string_view name) {
    const auto it =
        std::find_if(kOps.begin(), kOps.end(), [&](const OpEntry& e) { return e.name == name; });
    if (it == kOps.end()) return std::nullopt;
    return static_cast<BuiltinOp>(it->code);
}

}  // namespace qs::model
