// Verified loading of .tflite files into the IR (model/model.h).
#pragma once

#include <filesystem>
#include <memory>
#include <span>

#include "model/error.h"
#include "model/model.h"

namespace qs::model {

struct LoadOptions {
    bool read_metadata = true;  // parse TFLite Metadata (input normalization, image size)
};

// Memory-maps the file, runs the FlatBuffers verifier, then checks every index, shape, buffer
// size, quantization block and the op order. Errors name the file and what is wrong.
Result<Model> loadModel(const std::filesystem::path& path, const LoadOptions& options = {});
// The same checks on bytes already in memory (copied; `name` is used in messages).
Result<Model> loadModelFromBuffer(std::span<const uint8_t> bytes, std::string name = "<buffer>",
                                  const LoadOptions& options = {});

}  // namespace qs::model
