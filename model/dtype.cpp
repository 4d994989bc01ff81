#include "model/dtype.h"

#include <array>

namespace qs::model {

namespace {

struct DTypeInfo {
    DType type;
    std::string_view name;
    int bits;
    std::string_view numpy;
};

// Sizes follow TFLite's TfLiteTypeGetSize (tensorflow/lite/kernels/kernel_util.cc); numpy
// descriptors are what numpy.lib.format writes for each dtype ('|' where byte order is moot).
constexpr std::array<DTypeInfo, 18> kDTypes{{
    {DType::Float32, "FLOAT32", 32, "<f4"},
    {DType::Float16, "FLOAT16", 16, "<f2"},
    {DType::Int32, "INT32", 32, "<i4"},
    {DType::UInt8, "UINT8", 8, "|u1"},
    {DType::Int64, "INT64", 64, "<i8"},
    {DType::String, "STRING", 0, ""},
    {DType::Bool, "BOOL", 8, "|b1"},
    {DType::Int16, "INT16", 16, "<i2"},
    {DType::Complex64, "COMPLEX64", 64, "<c8"},
    {DType::Int8, "INT8", 8, "|i1"},
    {DType::Float64, "FLOAT64", 64, "<f8"},
    {DType::Complex128, "COMPLEX128", 128, "<c16"},
    {DType::UInt64, "UINT64", 64, "<u8"},
    {DType::Resource, "RESOURCE", 0, ""},
    {DType::Variant, "VARIANT", 0, ""},
    {DType::UInt32, "UINT32", 32, "<u4"},
    {DType::UInt16, "UINT16", 16, "<u2"},
    {DType::Int4, "INT4", 4, ""},
}};

const DTypeInfo* info(DType t) {
    const auto i = static_cast<size_t>(static_cast<int8_t>(t));
    if (i >= kDTypes.size()) return nullptr;
    return &kDTypes[i];
}

}  // namespace

std::string_view dtypeName(DType t) {
    const DTypeInfo* d = info(t);
    return d ? d->name : std::string_view{};
}

std::optional<DType> dtypeFromName(std::string_view name) {
    for (const DTypeInfo& d : kDTypes) {
        if (d.name == name) return d.type;
    }
    return std::nullopt;
}

int dtypeBits(DType t) {
    const DTypeInfo* d = info(t);
    return d ? d->bits : 0;
}

std::string_view dtypeNumpy(DType t) {
    const DTypeInfo* d = info(t);
    return d ? d->numpy : std::string_view{};
}

bool isQuantizable(DType t) {
    switch (t) {
        case DType::Int8:
        case DType::UInt8:
        case DType::Int16:
        case DType::Int4:
        case DType::Int32:
        case DType::Int64:
            return true;
        default:
            return false;
    }
}

bool isFloat(DType t) {
    return t == DType::Float16 || t == DType::Float32 || t == DType::Float64;
}

}  // namespace qs::model
