// Typed builtin options for the operators the engine runs. Field names follow TFLite's
// schema.fbs so a reader can hold these beside TFLite's kernels.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "model/dtype.h"

namespace qs::model {

enum class Padding : int8_t { Same = 0, Valid = 1 };
enum class Activation : int8_t { None = 0, Relu = 1, ReluN1To1 = 2, Relu6 = 3, Tanh = 4, SignBit = 5 };
std::string_view activationName(Activation a);
std::string_view paddingName(Padding p);

struct NoOptions {};
struct Conv2DOptions {
    Padding padding = Padding::Same;
    int32_t stride_w = 1, stride_h = 1;
    Activation fused_activation_function = Activation::None;
    int32_t dilation_w_factor = 1, dilation_h_factor = 1;
    DType quantized_bias_type = DType::Float32;  // FLOAT32 (0) means "not set"
};
struct DepthwiseConv2DOptions {
    Padding padding = Padding::Same;
    int32_t stride_w = 1, stride_h = 1;
    int32_t depth_multiplier = 0;
    Activation fused_activation_function = Activation::None;
    int32_t dilation_w_factor = 1, dilation_h_factor = 1;
};
struct TransposeConvOptions {
    Padding padding = Padding::Same;
    int32_t stride_w = 1, stride_h = 1;
    Activation fused_activation_function = Activation::None;
    DType quantized_bias_type = DType::Float32;
};
struct Pool2DOptions {
    Padding padding = Padding::Same;
    int32_t stride_w = 1, stride_h = 1;
    int32_t filter_width = 1, filter_height = 1;
    Activation fused_activation_function = Activation::None;
};
struct FullyConnectedOptions {
    Activation fused_activation_function = Activation::None;
    int8_t weights_format = 0;  // 0 DEFAULT, 1 SHUFFLED4x16INT8
    bool keep_num_dims = false;
    bool asymmetric_quantize_inputs = false;
    DType quantized_bias_type = DType::Float32;
};
struct SVDFOptions {
    int32_t rank = 0;
    Activation fused_activation_function = Activation::None;
    bool asymmetric_quantize_inputs = false;
};
struct SoftmaxOptions { float beta = 1.0f; };
struct ConcatenationOptions {
    int32_t axis = 0;
    Activation fused_activation_function = Activation::None;
};
// ADD and SUB.
struct AddSubOptions {
    Activation fused_activation_function = Activation::None;
    bool pot_scale_int16 = true;
};
// MUL, DIV, L2_NORMALIZATION: only a fused activation.
struct ActivationOptions { Activation fused_activation_function = Activation::None; };
struct ReshapeOptions { std::vector<int32_t> new_shape; bool has_new_shape = false; };
struct BlockSizeOptions { int32_t block_size = 0; };  // SPACE_TO_DEPTH, DEPTH_TO_SPACE
struct GatherOptions { int32_t axis = 0; int32_t batch_dims = 0; };
struct ReducerOptions { bool keep_dims = false; };
struct SqueezeOptions { std::vector<int32_t> squeeze_dims; };
struct StridedSliceOptions {
    int32_t begin_mask = 0, end_mask = 0, ellipsis_mask = 0, new_axis_mask = 0, shrink_axis_mask = 0;
    bool offset = false;
};
struct SplitOptions { int32_t num_splits = 0; };  // SPLIT and SPLIT_V
struct CastOptions { DType in_data_type = DType::Float32, out_data_type = DType::Float32; };
struct ArgMinMaxOptions { DType output_type = DType::Int64; };
struct ShapeOptions { DType out_type = DType::Int32; };
struct PackOptions { int32_t values_count = 0; int32_t axis = 0; };
struct UnpackOptions { int32_t num = 0; int32_t axis = 0; };
struct LeakyReluOptions { float alpha = 0.0f; };
struct MirrorPadOptions { int8_t mode = 0; };  // 0 REFLECT, 1 SYMMETRIC
struct ResizeOptions { bool align_corners = false; bool half_pixel_centers = false; };
struct BatchMatMulOptions { bool adj_x = false, adj_y = false, asymmetric_quantize_inputs = false; };
struct UnidirectionalSequenceLSTMOptions {
    Activation fused_activation_function = Activation::None;
    float cell_clip = 0.0f, proj_clip = 0.0f;
    bool time_major = false;
    bool asymmetric_quantize_inputs = false;
    bool diagonal_recurrent_tensors = false;
};
struct IfOptions { int32_t then_subgraph_index = -1, else_subgraph_index = -1; };
struct WhileOptions { int32_t cond_subgraph_index = -1, body_subgraph_index = -1; };
struct CallOnceOptions { int32_t init_subgraph_index = -1; };
struct GeluOptions { bool approximate = false; };
// LSTM (the fully-unrolled, non-sequence op).
struct LSTMOptions {
    Activation fused_activation_function = Activation::None;
    float cell_clip = 0.0f, proj_clip = 0.0f;
    int8_t kernel_type = 0;  // 0 FULL, 1 BASIC
    bool asymmetric_quantize_inputs = false;
};
struct CallOptions { int32_t subgraph = -1; };  // the deprecated CALL op

using BuiltinOptions = std::variant<NoOptions, Conv2DOptions, DepthwiseConv2DOptions,
    TransposeConvOptions, Pool2DOptions, FullyConnectedOptions, SVDFOptions, SoftmaxOptions,
    ConcatenationOptions, AddSubOptions, ActivationOptions, ReshapeOptions, BlockSizeOptions,
    GatherOptions, ReducerOptions, SqueezeOptions, StridedSliceOptions, SplitOptions,
    CastOptions, ArgMinMaxOptions, ShapeOptions, PackOptions, UnpackOptions, LeakyReluOptions,
    MirrorPadOptions, ResizeOptions, BatchMatMulOptions, UnidirectionalSequenceLSTMOptions,
    IfOptions, WhileOptions, CallOnceOptions, GeluOptions, LSTMOptions, CallOptions>;

}  // namespace qs::model
