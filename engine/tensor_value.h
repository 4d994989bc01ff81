// A runtime tensor: what the executor produces for every op output and what the recorder
// callback, the .npy writer and later analysis consume. It owns its bytes, except a view of a
// model constant (viewOfConstant), which the executor uses instead of copying constants.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "model/dtype.h"
#include "model/error.h"
#include "model/model.h"

namespace qs::engine {

// Element size in bytes of the dtypes the engine stores unpacked (0 for STRING, INT4, ...).
size_t dtypeSize(model::DType t);

// The C++ element type of a dtype, for the typed accessors.
template <class T>
constexpr bool dtypeMatches(model::DType t) {
    using model::DType;
    if constexpr (std::is_same_v<T, float>) return t == DType::Float32;
    if constexpr (std::is_same_v<T, double>) return t == DType::Float64;
    if constexpr (std::is_same_v<T, int8_t>) return t == DType::Int8;
    if constexpr (std::is_same_v<T, uint8_t>) return t == DType::UInt8 || t == DType::Bool;
    if constexpr (std::is_same_v<T, int16_t>) return t == DType::Int16;
    if constexpr (std::is_same_v<T, uint16_t>) return t == DType::UInt16 || t == DType::Float16;
    if constexpr (std::is_same_v<T, int32_t>) return t == DType::Int32;
    if constexpr (std::is_same_v<T, uint32_t>) return t == DType::UInt32;
    if constexpr (std::is_same_v<T, int64_t>) return t == DType::Int64;
    if constexpr (std::is_same_v<T, uint64_t>) return t == DType::UInt64;
    return false;
}

int64_t shapeElements(std::span<const int32_t> shape);    // product; 1 for a scalar
std::string shapeString(std::span<const int32_t> shape);  // "1,224,224,3" (as in index.tsv)

class TensorValue {
public:
    // Storage alignment: SIMD loads of any kernel may assume it.
    static constexpr size_t kAlignment = 64;

    TensorValue() = default;
    // Zero-filled tensor of the given dtype and shape.
    TensorValue(model::DType dtype, std::vector<int32_t> shape);
    // The same with its bytes left unset, for a kernel output that eval writes completely
    // (Kernel::writesWholeOutputs): no memset of memory that is about to be overwritten.
    struct Uninitialized {};
    TensorValue(model::DType dtype, std::vector<int32_t> shape, Uninitialized);
    TensorValue(const TensorValue& other);
    TensorValue& operator=(const TensorValue& other);
    TensorValue(TensorValue&&) noexcept = default;
    TensorValue& operator=(TensorValue&&) noexcept = default;

    // A copy of a constant tensor of the model (data, shape, dtype and quantization).
    static Result<TensorValue> fromConstant(const model::Tensor& tensor);
    // The same without the copy when the bytes are aligned for any element type: a read-only
    // view of the model's (memory-mapped) constant, valid while the model lives. Copying the
    // returned value makes an owning copy. Its mutable accessors must not be written through.
    static Result<TensorValue> viewOfConstant(const model::Tensor& tensor);
    bool isView() const { return !m_data.get_deleter().owns; }
    // Raw bytes (must be exactly numElements() * element size).
    static Result<TensorValue> fromBytes(model::DType dtype, std::vector<int32_t> shape,
                                         std::span<const uint8_t> bytes);

    model::DType dtype() const { return m_dtype; }
    const std::vector<int32_t>& shape() const { return m_shape; }
    int rank() const { return static_cast<int>(m_shape.size()); }
    int32_t dim(int i) const { return m_shape[static_cast<size_t>(i)]; }
    int64_t numElements() const { return shapeElements(m_shape); }
    size_t byteSize() const { return m_size; }
    bool valid() const { return m_valid; }

    // Quantization parameters as stored on the IR tensor (copied, so the value outlives it).
    const model::Quantization& quantization() const { return m_quant; }
    void setQuantization(model::Quantization q) { m_quant = std::move(q); }
    // Changes the shape without touching the bytes (RESHAPE, SQUEEZE); the element count must
    // not change.
    void reshape(std::vector<int32_t> shape);

    std::span<uint8_t> bytes() { return {m_data.get(), m_size}; }
    std::span<const uint8_t> bytes() const { return {m_data.get(), m_size}; }
    void* raw() { return m_data.get(); }
    const void* raw() const { return m_data.get(); }

    // Typed views; the element type must match the dtype (checked, aborts on misuse, which is
    // a programming error inside the engine, never a user-input problem).
    template <class T>
    std::span<T> data() {
        checkType(dtypeMatches<T>(m_dtype));
        return {reinterpret_cast<T*>(m_data.get()), m_size / sizeof(T)};
    }
    template <class T>
    std::span<const T> data() const {
        checkType(dtypeMatches<T>(m_dtype));
        return {reinterpret_cast<const T*>(m_data.get()), m_size / sizeof(T)};
    }

    // Bytewise equality of dtype, shape and data (quantization is not compared).
    bool sameContents(const TensorValue& other) const;

private:
    struct FreeDeleter {
        // A user-declared constructor, not a member initializer: the latter would not count
        // as default-constructible inside the still incomplete TensorValue.
        FreeDeleter() noexcept : owns(true) {}
        explicit FreeDeleter(bool own) noexcept : owns(own) {}
        bool owns;  // false: a view of a model constant (viewOfConstant)
        void operator()(uint8_t* p) const;
    };
    void allocate(size_t bytes, bool zero = true);
    static void checkType(bool ok);

    model::DType m_dtype = model::DType::Float32;
    std::vector<int32_t> m_shape;
    std::unique_ptr<uint8_t[], FreeDeleter> m_data;
    size_t m_size = 0;
    bool m_valid = false;
    model::Quantization m_quant;
};

}  // namespace qs::engine
