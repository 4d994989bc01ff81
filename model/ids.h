// Strong index types, so a tensor index is never passed where an op index is expected
// (after heaptrack's src/util/indices.h).
#pragma once

#include <compare>
#include <cstdint>
#include <functional>

namespace qs {

template <class Tag>
struct StrongId {
    int32_t value = -1;
    constexpr StrongId() = default;
    constexpr explicit StrongId(int32_t v) : value(v) {}
    constexpr bool valid() const { return value >= 0; }
    constexpr auto operator<=>(const StrongId&) const = default;
};

using TensorId = StrongId<struct TensorTag>;
using OpId = StrongId<struct OpTag>;
using SubgraphId = StrongId<struct SubgraphTag>;

}  // namespace qs

template <class Tag>
struct std::hash<qs::StrongId<Tag>> {
    size_t operator()(qs::StrongId<Tag> id) const noexcept { return std::hash<int32_t>()(id.value); }
};
