// DENSIFY: a sparse constant (TFLite's TACO-style encoding, model::Tensor::sparsity) to its
// dense form. The conversion is what tensorflow/lite/kernels/internal/utils/
// sparsity_format_converter.cc (FormatConverter::SparseToDense / Populate) does, with every
// index checked against the file instead of trusted.
#pragma once

#include "engine/tensor_value.h"
#include "model/error.h"
#include "model/model.h"

namespace qs::engine::kernels {

// The dense value of a sparse constant tensor (any dtype of 1, 2, 4 or 8 bytes; zeros where
// nothing is stored). Fails on an index outside the shape or a malformed encoding.
Result<TensorValue> densifySparseTensor(const model::Tensor& tensor);

}  // namespace qs::engine::kernels
