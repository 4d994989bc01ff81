// A preprocessing pipeline: image -> (crop) -> resize -> channel order -> normalization ->
// input tensor (quantized with the input's scale and zero point when it is quantized).
// A Pipeline is a plain value the GUI can hold (up to four side by side) and the CLI parses
// from `--preprocess method=...,size=WxH,...`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/preprocess/image.h"
#include "engine/preprocess/resize.h"
#include "engine/tensor_value.h"
#include "model/error.h"
#include "model/model.h"

namespace qs::engine::preprocess {

enum class CropMode {
    Stretch,  // whole image resized to the target size (aspect ratio not kept)
    Center,   // largest centred region with the target aspect ratio, then resized
    Pad,      // padded (centred, with pad_value) to the target aspect ratio, then resized
};

enum class ChannelOrder { Rgb, Bgr };

enum class NormPreset {
    Auto,         // TFLite Metadata mean/std when present, else InputQuant for a quantized
                  // input and ZeroOne for a float one
    Raw,          // pixel (0..255)
    ZeroOne,      // pixel / 255
    MinusOneOne,  // (pixel - 127.5) / 127.5
    ImageNet,     // (pixel / 255 - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225] (torchvision)
    InputQuant,   // the values whose quantization gives back the pixel (uint8) or pixel - 128
                  // (int8): mean = zero point (+128 for int8), std = 1 / scale
    Metadata,     // the model's TFLite Metadata NormalizationOptions (an error when absent)
    Custom,       // (pixel / divisor - mean) / std with the values below
};

// value = (pixel / divisor - mean[c]) / std[c], evaluated in float32 in that order (as numpy
// does on a float32 image). mean/std hold one value for every channel or one per channel.
struct Normalization {
    NormPreset preset = NormPreset::Auto;
    float divisor = 1.0f;
    std::vector<float> mean;
    std::vector<float> std;

    bool operator==(const Normalization&) const = default;
};

struct Pipeline {
    ResizeMethod method = ResizeMethod::OpencvLinear;
    int32_t width = 0;  // 0: the model input's (metadata image size, else tensor shape)
    int32_t height = 0;
    CropMode crop = CropMode::Stretch;
    uint8_t pad_value = 0;
    ChannelOrder order = ChannelOrder::Rgb;
    Normalization norm;

    bool operator==(const Pipeline&) const = default;
};

// `method=opencv-area,size=224x224,crop=stretch|center|pad,pad=0,order=rgb|bgr,
//  norm=auto|raw|0to1|-1to1|imagenet|input-quant|metadata|custom,mean=R:G:B,std=R:G:B,div=255`
// Every key is optional; mean/std/div imply norm=custom. Errors name the bad key or value.
Result<Pipeline> parsePipeline(std::string_view spec);
// The canonical spec text of a pipeline (parsePipeline(formatPipeline(p)) == p).
std::string formatPipeline(const Pipeline& p);
// One-line human summary, e.g. "opencv-area 224x224, center crop, rgb, [-1,1]".
std::string describePipeline(const Pipeline& p);
// Names for the enum values (CLI spelling).
std::string_view cropModeName(CropMode m);
std::string_view normPresetName(NormPreset p);

// Per-channel statistics of the normalized values.
struct ChannelStats {
    double min = 0, max = 0, mean = 0;
};

// How far the quantized input is from the normalized float values.
struct QuantizationError {
    float scale = 0;
    int32_t zero_point = 0;
    double max_abs = 0;   // max |dequantized - value|
    double mean_abs = 0;  // mean |dequantized - value|
    double rms = 0;       // sqrt(mean (dequantized - value)^2)
    int64_t clamped = 0;  // elements that fell outside the integer range
    int64_t elements = 0;
};

struct PreprocessResult {
    Pipeline resolved;                // the pipeline with every default filled in
    Image cropped;                    // the source after channel conversion and crop (preview)
    FloatImage resized;               // after resize and channel order, pixel units
    TensorValue normalized;           // float32 [1, H, W, C]: what a float model sees
    TensorValue input;                // for the model input: its dtype, quantized when it is
    std::vector<ChannelStats> stats;  // of `normalized`, per channel
    std::optional<QuantizationError> quant_error;  // when `input` is quantized
};

// Fills size and normalization defaults for model input `input_index` of subgraph 0 (TFLite
// Metadata first, then the tensor shape [1, H, W, C] and its quantization). Errors when the
// input is not an NHWC image tensor with 1 or 3 channels.
Result<Pipeline> resolvePipeline(const Pipeline& p, const model::Model& m, size_t input_index);

// Runs a resolved-or-not pipeline for model input `input_index`.
Result<PreprocessResult> preprocess(const Image& image, const Pipeline& p, const model::Model& m,
                                    size_t input_index);
// The same for an explicit target tensor (dtype, shape [1, H, W, C], quantization); the
// pipeline must already be resolved (no Auto/Metadata preset, size given).
Result<PreprocessResult> preprocessFor(const Image& image, const Pipeline& resolved,
                                       const model::Tensor& target);

// Mean/std (per channel) a resolved normalization uses, expanded to `channels` values.
struct NormValues {
    float divisor = 1;
    std::vector<float> mean, std;
};
Result<NormValues> normValues(const Normalization& n, int32_t channels);

// TFLite quantization of one value: round half away from zero (TfLiteRound) of value / scale
// in float, plus the zero point, clamped to [lo, hi] (reference_ops::AffineQuantize).
int32_t quantizeValue(float value, float scale, int32_t zero_point, int32_t lo, int32_t hi);

}  // namespace qs::engine::preprocess
