// Tensor element types, numbered as TFLite's schema numbers them.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace qs::model {

enum class DType : int8_t {
    Float32 = 0, Float16 = 1, Int32 = 2, UInt8 = 3, Int64 = 4, String = 5, Bool = 6,
    Int16 = 7, Complex64 = 8, Int8 = 9, Float64 = 10, Complex128 = 11, UInt64 = 12,
    Resource = 13, Variant = 14, UInt32 = 15, UInt16 = 16, Int4 = 17,
};

// The name as TFLite spells it: "FLOAT32", "INT8", ...
std::string_view dtypeName(DType t);
std::optional<DType> dtypeFromName(std::string_view name);
// Storage size in bits of one element (4 for INT4, which packs two per byte); 0 for
// types without a fixed size (STRING, RESOURCE, VARIANT).
int dtypeBits(DType t);
// The numpy dtype string ("<i1", "<f4", "|b1", ...) or empty when numpy has none.
std::string_view dtypeNumpy(DType t);
bool isQuantizable(DType t);  // INT8, UINT8, INT16, INT4, INT32 (bias), INT64 (int16x8 bias)
bool isFloat(DType t);        // FLOAT16, FLOAT32, FLOAT64

}  // namespace qs::model
