#include "app/cli/image_input.h"

#include <cctype>

#include "model/str_format.h"

namespace qs::cli {

namespace pp = engine::preprocess;

bool isImagePath(const std::filesystem::path& path) {
    std::string ext = path.extension().string();
    for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp";
}

Result<pp::Pipeline> parsePreprocessOption(const std::optional<std::string>& spec) {
    if (!spec) return pp::Pipeline{};
    return pp::parsePipeline(*spec);
}

Result<ImageInput> loadImageInput(const model::Model& m, size_t index,
                                  const std::filesystem::path& file, const pp::Pipeline& pipeline,
                                  bool keep_float) {
    auto image = pp::readImage(file);
    if (!image) return std::unexpected(image.error());
    auto r = pp::preprocess(*image, pipeline, m, index);
    if (!r) return fail(strFormat("{}: {}", file.string(), r.error().message));
    ImageInput out;
    const auto& sg = m.main();
    out.summary =
        strFormat("input {} '{}': {} {}x{} -> {}", index, sg.tensor(sg.inputs[index]).name,
                  file.string(), image->width, image->height, pp::describePipeline(r->resolved));
    if (r->quant_error && !keep_float) {
        const auto& q = *r->quant_error;
        out.summary +=
            strFormat("; quantized (scale {}, zero point {}): error max {}, mean {}, {} clamped",
                      q.scale, q.zero_point, q.max_abs, q.mean_abs, q.clamped);
    }
    out.value = keep_float && r->quant_error ? std::move(r->normalized) : std::move(r->input);
    return out;
}

}  // namespace qs::cli
