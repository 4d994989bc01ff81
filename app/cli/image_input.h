// Image files as model inputs for `run` and `report`: `--input NAME|INDEX=IMAGE.png|jpg|bmp`
// goes through a preprocessing pipeline (`--preprocess SPEC`, engine/preprocess/pipeline.h)
// into the input tensor.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "engine/preprocess/pipeline.h"
#include "engine/tensor_value.h"
#include "model/error.h"
#include "model/model.h"

namespace qs::cli {

// The --preprocess synopsis shared by the commands' usage lines.
inline constexpr const char* kPreprocessSynopsis =
    "[--preprocess method=M,size=WxH,crop=stretch|center|pad,order=rgb|bgr,"
    "norm=auto|raw|0to1|-1to1|imagenet|input-quant|metadata|custom,mean=R:G:B,std=R:G:B]";

// .png, .jpg, .jpeg, .bmp (any case).
bool isImagePath(const std::filesystem::path& path);

// The pipeline of `--preprocess SPEC` (defaults: opencv-linear, the input's size, stretch,
// rgb, normalization from TFLite Metadata or else auto).
Result<engine::preprocess::Pipeline> parsePreprocessOption(const std::optional<std::string>& spec);

struct ImageInput {
    engine::TensorValue value;
    std::string summary;  // one line: file, pipeline, quantization error
};

// Decodes `file` and runs `pipeline` for input `index` of subgraph 0. keep_float: a quantized
// input gets the float32 normalized values instead (for the float engine).
Result<ImageInput> loadImageInput(const model::Model& m, size_t index,
                                  const std::filesystem::path& file,
                                  const engine::preprocess::Pipeline& pipeline,
                                  bool keep_float = false);

}  // namespace qs::cli
