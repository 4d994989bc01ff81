// `quantscope-cli resize IMAGE --size WxH --method METHOD [--crop stretch|center|pad] [--gray]
//      --out OUT.png|OUT.npy`
// Decodes IMAGE (PNG, JPEG, BMP; EXIF orientation applied), converts it to RGB (or gray) and
// resizes it with one of the engine's methods (engine/preprocess/resize.h). OUT.npy holds
// [H, W, C] in RGB order: uint8 for the 8-bit libraries, float32 for tf-* (TensorFlow's
// float results); OUT.png holds 8-bit pixels (tf-* rounded to nearest, ties to even).
#include <cstdio>
#include <string>

#include "app/cli/args.h"
#include "app/cli/commands.h"
#include "engine/io/npy.h"
#include "engine/preprocess/image.h"
#include "engine/preprocess/pipeline.h"
#include "engine/preprocess/resize.h"
#include "model/str_format.h"

namespace qs::cli {

namespace {

namespace pp = engine::preprocess;

std::string usageLine() {
    return "resize IMAGE --size WxH --method " + [] {
        std::string s;
        for (const auto& m : pp::resizeMethods()) s += (s.empty() ? "" : "|") + std::string(m.name);
        return s;
    }() + " [--crop stretch|center|pad] [--gray] --out OUT.png|OUT.npy";
}

bool endsWith(const std::string& s, std::string_view suffix) {
    return s.size() >= suffix.size() &&
           s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

int cmdResize(std::span<const std::string> argv) {
    ArgSpec spec;
    spec.flags = {"--gray"};
    spec.valued = {"--size", "--method", "--crop", "--out"};
    auto args = Args::parse(argv, spec);
    if (!args) return reportError(args.error(), kExitUsage);
    auto usage = [](const std::string& why) {
        return reportError(Error{strFormat("{} (usage: quantscope-cli {})", why, usageLine())},
                           kExitUsage);
    };
    if (args->positional().size() != 1) return usage("one IMAGE is required");
    const auto size = args->value("--size");
    const auto method = args->value("--method");
    const auto out = args->value("--out");
    if (!size || !method || !out) return usage("--size, --method and --out are required");
    // The pipeline parser already knows the size, method and crop spellings.
    std::string text = "size=" + *size + ",method=" + *method;
    if (auto c = args->value("--crop")) text += ",crop=" + *c;
    auto pipeline = pp::parsePipeline(text);
    if (!pipeline) {
        std::string msg = pipeline.error().message;
        if (msg.rfind("--preprocess ", 0) == 0) msg = "--" + msg.substr(13);
        return usage(msg);
    }
    const bool npy = endsWith(*out, ".npy");
    if (!npy && !endsWith(*out, ".png")) return usage("--out must end in .png or .npy");

    auto image = pp::readImage(args->positional()[0]);
    if (!image) return reportError(image.error(), kExitBadInput);
    const int32_t channels = args->has("--gray") ? 1 : 3;
    // The pipeline without normalization: a float32 [1, H, W, C] target takes the pixels.
    model::Tensor target;
    target.name = "resize";
    target.shape = {1, pipeline->height, pipeline->width, channels};
    pipeline->norm.preset = pp::NormPreset::Raw;
    auto r = pp::preprocessFor(*image, *pipeline, target);
    if (!r) return reportError(r.error(), kExitBadInput);

    const auto& info = pp::resizeMethodInfo(pipeline->method);
    Result<void> written;
    if (npy) {
        const std::vector<int32_t> shape = {pipeline->height, pipeline->width, channels};
        if (info.integer_output) {
            const pp::Image u8 = pp::toUint8(r->resized);
            auto v = engine::TensorValue::fromBytes(model::DType::UInt8, shape, u8.pixels);
            if (!v) return reportError(v.error(), kExitBadInput);
            written = engine::writeNpy(*out, *v);
        } else {
            engine::TensorValue v = r->normalized;
            v.reshape(shape);
            written = engine::writeNpy(*out, v);
        }
    } else {
        written = pp::writePng(*out, pp::toUint8(r->resized));
    }
    if (!written) return reportError(written.error(), kExitBadInput);
    std::printf("%s %dx%d -> %s %dx%d (%s) written to %s\n", args->positional()[0].c_str(),
                image->width, image->height, std::string(info.name).c_str(), pipeline->width,
                pipeline->height, std::string(info.description).c_str(), out->c_str());
    return kExitOk;
}

}  // namespace qs::cli
