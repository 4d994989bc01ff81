#include <algorithm>
#include "model/str_format.h"

#include "engine/kernels/kernel.h"
#include "engine/kernels/kernel_list.h"
#include "engine/profiles/rule_table.h"

namespace qs::engine {

#define QS_DECLARE_FAMILY(name) void registerKernels_##name(KernelRegistry& r);
QS_KERNEL_FAMILIES(QS_DECLARE_FAMILY)
#undef QS_DECLARE_FAMILY

void KernelRegistry::add(model::BuiltinOp op, KernelFactory factory) {
    auto it = std::find_if(m_entries.begin(), m_entries.end(),
                           [op](const auto& e) { return e.first == op; });
    if (it != m_entries.end())
        it->second = factory;
    else
        m_entries.emplace_back(op, factory);
}

KernelFactory KernelRegistry::find(model::BuiltinOp op) const {
    for (const auto& [o, f] : m_entries)
        if (o == op) return f;
    return nullptr;
}

std::vector<model::BuiltinOp> KernelRegistry::ops() const {
    std::vector<model::BuiltinOp> out;
    for (const auto& e : m_entries) out.push_back(e.first);
    std::sort(out.begin(), out.end());
    return out;
}

void KernelRegistry::addCustom(std::string code, KernelFactory factory) {
    auto it = std::find_if(m_custom.begin(), m_custom.end(),
                           [&](const auto& e) { return e.first == code; });
    if (it != m_custom.end())
        it->second = factory;
    else
        m_custom.emplace_back(std::move(code), factory);
}

KernelFactory KernelRegistry::findCustom(std::string_view code) const {
    for (const auto& [c, f] : m_custom)
        if (c == code) return f;
    return nullptr;
}

std::vector<std::string> KernelRegistry::customOps() const {
    std::vector<std::string> out;
    for (const auto& e : m_custom) out.push_back(e.first);
    std::sort(out.begin(), out.end());
    return out;
}

const KernelRegistry& KernelRegistry::builtin() {
    static const KernelRegistry registry = [] {
        KernelRegistry r;
#define QS_CALL_FAMILY(name) registerKernels_##name(r);
        QS_KERNEL_FAMILIES(QS_CALL_FAMILY)
#undef QS_CALL_FAMILY
        return r;
    }();
    return registry;
}

void registerHybridKernels(KernelRegistry& r);

const KernelRegistry& KernelRegistry::hybrid() {
    static const KernelRegistry registry = [] {
        KernelRegistry r;
        registerHybridKernels(r);
        return r;
    }();
    return registry;
}

RequantRule PrepareContext::rule(model::DType activation) const {
    return requantRuleFor(m_profile, m_op.opcode, activation);
}

std::unexpected<Error> PrepareContext::fail(std::string message) const {
    Error e;
    e.message = strFormat("op {} ({}): {}", m_op_id.value, m_op.name(), message);
    e.op_index = m_op_id.value;
    return std::unexpected(std::move(e));
}

}  // namespace qs::engine
