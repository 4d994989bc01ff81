// NumPy .npy files (format versions 1.0 and 2.0, little-endian, C order). The conformance
// data and `quantscope-cli run --dump` use them; numpy.load reads what writeNpy writes.
#pragma once

#include <filesystem>

#include "engine/tensor_value.h"
#include "model/error.h"

namespace qs::engine {

// Reads int8, uint8, int16, int32, int64, float16, float32, float64 and bool arrays.
// Errors are one line and start with the file name.
Result<TensorValue> readNpy(const std::filesystem::path& path);
// Parses .npy bytes already in memory (`name` is used in messages).
Result<TensorValue> parseNpy(std::span<const uint8_t> bytes, const std::string& name);

// Writes format 1.0 (2.0 when the header would not fit in 65535 bytes). Atomic: the data
// goes to a temporary file in the same directory, which is then renamed over `path`.
Result<void> writeNpy(const std::filesystem::path& path, const TensorValue& value);
// The complete file contents writeNpy would write.
Result<std::vector<uint8_t>> encodeNpy(const TensorValue& value);

// Writes `bytes` to `path` atomically (temporary file in the same directory + rename).
Result<void> writeFileAtomic(const std::filesystem::path& path, std::span<const uint8_t> bytes);

}  // namespace qs::engine
