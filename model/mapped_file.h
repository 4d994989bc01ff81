// Byte owners behind Model::storage: a read-only memory map of a file, or a heap copy.
#pragma once

#include <filesystem>
#include <memory>
#include <span>

#include "model/error.h"
#include "model/model.h"

namespace qs::model {

// Maps the whole file read-only (never reads it into memory). Errors name the path and the
// failing system call: a missing file, a directory, an empty file, a permission problem.
Result<std::shared_ptr<const ModelStorage>> mapFile(const std::filesystem::path& path);
// A heap copy of `bytes`, aligned to 16 bytes like the FlatBuffers force_align on Buffer.data.
std::shared_ptr<const ModelStorage> copyToHeap(std::span<const uint8_t> bytes);

}  // namespace qs::model
