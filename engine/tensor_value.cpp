#include "engine/tensor_value.h"

#include <cstdio>
#include <cstdlib>
#include "model/str_format.h"

namespace qs::engine {

using model::DType;

size_t dtypeSize(DType t) {
    switch (t) {
        case DType::Bool:
        case DType::Int8:
        case DType::UInt8:
            return 1;
        case DType::Int16:
        case DType::UInt16:
        case DType::Float16:
            return 2;
        case DType::Int32:
        case DType::UInt32:
        case DType::Float32:
            return 4;
        case DType::Int64:
        case DType::UInt64:
        case DType::Float64:
        case DType::Complex64:
            return 8;
        case DType::Complex128:
            return 16;
        default:
            return 0;
    }
}

int64_t shapeElements(std::span<const int32_t> shape) {
    int64_t n = 1;
    for (int32_t d : shape) n *= d;
    return n;
}

std::string shapeString(std::span<const int32_t> shape) {
    std::string s;
    for (size_t i = 0; i < shape.size(); ++i) {
        if (i) s += ',';
        s += std::to_string(shape[i]);
    }
    return s;
}

void TensorValue::FreeDeleter::operator()(uint8_t* p) const {
    if (owns) std::free(p);
}

void TensorValue::checkType(bool ok) {
    if (!ok) {
        std::fputs("qs_engine: TensorValue typed access with a mismatched element type\n", stderr);
        std::abort();
    }
}

void TensorValue::allocate(size_t bytes, bool zero) {
    m_size = bytes;
    // aligned_alloc needs a size that is a multiple of the alignment; round up and keep at
    // least one block so data() never returns null.
    const size_t rounded =
        std::max<size_t>(kAlignment, (bytes + kAlignment - 1) / kAlignment * kAlignment);
    auto* p = static_cast<uint8_t*>(std::aligned_alloc(kAlignment, rounded));
    if (!p) {
        std::fputs("qs_engine: out of memory\n", stderr);
        std::abort();
    }
    if (zero) std::memset(p, 0, rounded);
    m_data = std::unique_ptr<uint8_t[], FreeDeleter>(p, FreeDeleter{});
    m_valid = true;
}

TensorValue::TensorValue(DType dtype, std::vector<int32_t> shape)
    : m_dtype(dtype), m_shape(std::move(shape)) {
    allocate(static_cast<size_t>(shapeElements(m_shape)) * dtypeSize(dtype));
}

TensorValue::TensorValue(DType dtype, std::vector<int32_t> shape, Uninitialized)
    : m_dtype(dtype), m_shape(std::move(shape)) {
    allocate(static_cast<size_t>(shapeElements(m_shape)) * dtypeSize(dtype), false);
}

TensorValue::TensorValue(const TensorValue& other)
    : m_dtype(other.m_dtype), m_shape(other.m_shape), m_quant(other.m_quant) {
    if (other.m_valid) {
        allocate(other.m_size);
        if (m_size) std::memcpy(m_data.get(), other.m_data.get(), m_size);
    }
}

TensorValue& TensorValue::operator=(const TensorValue& other) {
    if (this != &other) {
        TensorValue copy(other);
        *this = std::move(copy);
    }
    return *this;
}

Result<TensorValue> TensorValue::fromBytes(DType dtype, std::vector<int32_t> shape,
                                           std::span<const uint8_t> bytes) {
    const size_t es = dtypeSize(dtype);
    if (es == 0)
        return fail(strFormat("tensors of type {} are not supported by the engine",
                              model::dtypeName(dtype)));
    const auto expect = static_cast<size_t>(shapeElements(shape)) * es;
    if (bytes.size() != expect)
        return fail(strFormat("tensor data has {} bytes, shape [{}] of {} needs {}", bytes.size(),
                              shapeString(shape), model::dtypeName(dtype), expect));
    TensorValue v(dtype, std::move(shape));
    if (expect) std::memcpy(v.raw(), bytes.data(), expect);
    return v;
}

Result<TensorValue> TensorValue::fromConstant(const model::Tensor& tensor) {
    auto v = fromBytes(tensor.dtype, tensor.shape, tensor.data);
    if (!v) {
        v.error().tensor_name = tensor.name;
        return v;
    }
    v->setQuantization(tensor.quantization);
    return v;
}

Result<TensorValue> TensorValue::viewOfConstant(const model::Tensor& tensor) {
    const size_t es = dtypeSize(tensor.dtype);
    // Compiler-vectorized loops assume at least element alignment; 16 covers every dtype.
    const bool aligned = reinterpret_cast<uintptr_t>(tensor.data.data()) % 16 == 0;
    if (es == 0 || !aligned || tensor.data.empty() ||
        tensor.data.size() != static_cast<size_t>(shapeElements(tensor.shape)) * es)
        return fromConstant(tensor);  // fromConstant reports what is wrong, or copies
    TensorValue v;
    v.m_dtype = tensor.dtype;
    v.m_shape = tensor.shape;
    v.m_size = tensor.data.size();
    v.m_valid = true;
    v.m_data = std::unique_ptr<uint8_t[], FreeDeleter>(const_cast<uint8_t*>(tensor.data.data()),
                                                       FreeDeleter{false});
    v.m_quant = tensor.quantization;
    return v;
}

void TensorValue::reshape(std::vector<int32_t> shape) {
    if (shapeElements(shape) != numElements()) checkType(false);
    m_shape = std::move(shape);
}

bool TensorValue::sameContents(const TensorValue& other) const {
    return m_dtype == other.m_dtype && m_shape == other.m_shape && m_size == other.m_size &&
           (m_size == 0 || std::memcmp(m_data.get(), other.m_data.get(), m_size) == 0);
}

}  // namespace qs::engine
