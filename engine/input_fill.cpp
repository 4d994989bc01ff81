#include "engine/input_fill.h"

#include <cstring>
#include "model/str_format.h"

namespace qs::engine {

namespace {
struct SplitMix64 {
    uint64_t state;
    uint64_t next() {
        uint64_t z = (state += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
};
}  // namespace

Result<TensorValue> seededFill(const model::Tensor& tensor, uint64_t seed, int input_index) {
    using model::DType;
    std::vector<int32_t> shape = tensor.shape;
    TensorValue v(tensor.dtype, shape);
    if (dtypeSize(tensor.dtype) == 0)
        return fail(strFormat("cannot fill input '{}' of type {}", tensor.name,
                              model::dtypeName(tensor.dtype)));
    v.setQuantization(tensor.quantization);
    SplitMix64 rng{seed * 0x100000001B3ull + static_cast<uint64_t>(input_index) + 1};
    const int64_t n = v.numElements();
    auto bytes = v.bytes();
    switch (tensor.dtype) {
        case DType::Float32: {
            auto d = v.data<float>();
            // 24 random bits -> [0, 1) exactly representable, then to [-1, 1).
            for (int64_t i = 0; i < n; ++i)
                d[i] = static_cast<float>(rng.next() >> 40) * (2.0f / 16777216.0f) - 1.0f;
            break;
        }
        case DType::Float64: {
            auto d = v.data<double>();
            for (int64_t i = 0; i < n; ++i)
                d[i] = static_cast<double>(rng.next() >> 11) * (2.0 / 9007199254740992.0) - 1.0;
            break;
        }
        case DType::Bool:
            for (int64_t i = 0; i < n; ++i) bytes[i] = static_cast<uint8_t>(rng.next() >> 63);
            break;
        case DType::Float16: {
            auto d = v.data<uint16_t>();
            // Halves in [-1, 1): sign, exponent 0..14 (values below 1), random mantissa.
            for (int64_t i = 0; i < n; ++i) {
                const uint64_t r = rng.next();
                d[i] = static_cast<uint16_t>(((r >> 63) << 15) | (((r >> 20) % 15) << 10) |
                                             (r & 0x3ff));
            }
            break;
        }
        default: {
            const size_t es = dtypeSize(tensor.dtype);
            for (int64_t i = 0; i < n; ++i) {
                const uint64_t r = rng.next();
                std::memcpy(bytes.data() + i * static_cast<int64_t>(es), &r, es);
            }
        }
    }
    return v;
}

}  // namespace qs::engine
