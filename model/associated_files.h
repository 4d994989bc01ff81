// Files packed into a .tflite model by tflite-support's metadata writer: a zip archive
// appended to the FlatBuffer (label lists, vocabularies). TFLite Metadata names them; this
// reads their bytes and parses label lists.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "model/error.h"
#include "model/model.h"

namespace qs::model {

// Names of the files in the model's appended zip archive (empty when there is none).
std::vector<std::string> associatedFileNames(const Model& m);
// The bytes of one packed file. Errors: no archive, no such file, a compressed entry (the
// metadata writer stores files uncompressed so runtimes can map them), a truncated archive.
Result<std::vector<uint8_t>> readAssociatedFile(const Model& m, std::string_view name);

// One label per line ("tench", or "0 tench" / "0: tench" as Coral's label files write them:
// then the number is the class index). Blank lines keep their index as an empty label in
// the plain form and are skipped in the indexed form.
std::vector<std::string> parseLabels(std::string_view text);

// The labels for output `output` of subgraph 0: the first TENSOR_AXIS_LABELS file TFLite
// Metadata names for it. Empty (no error) when the metadata names none.
Result<std::vector<std::string>> outputLabels(const Model& m, size_t output);

}  // namespace qs::model
