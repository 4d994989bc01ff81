#include "engine/preprocess/pipeline.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include "model/str_format.h"

namespace qs::engine::preprocess {

namespace {

using model::DType;

struct PresetName {
    NormPreset preset;
    std::string_view name;
    std::string_view label;
};
constexpr PresetName kPresets[] = {
    {NormPreset::Auto, "auto", "auto"},
    {NormPreset::Raw, "raw", "raw 0..255"},
    {NormPreset::ZeroOne, "0to1", "[0,1]"},
    {NormPreset::MinusOneOne, "-1to1", "[-1,1]"},
    {NormPreset::ImageNet, "imagenet", "ImageNet mean/std"},
    {NormPreset::InputQuant, "input-quant", "input quantization"},
    {NormPreset::Metadata, "metadata", "metadata mean/std"},
    {NormPreset::Custom, "custom", "custom"},
};

std::optional<float> parseFloat(std::string_view s) {
    float v = 0;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (r.ec != std::errc() || r.ptr != s.data() + s.size() || !std::isfinite(v))
        return std::nullopt;
    return v;
}

std::optional<int32_t> parseInt(std::string_view s) {
    int32_t v = 0;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
    return v;
}

Result<std::vector<float>> parseFloats(std::string_view key, std::string_view s) {
    std::vector<float> out;
    size_t start = 0;
    while (true) {
        const size_t end = s.find(':', start);
        const auto part = s.substr(start, end == std::string_view::npos ? s.npos : end - start);
        auto v = parseFloat(part);
        if (!v)
            return fail(strFormat("--preprocess {}: '{}' is not a number", key, std::string(part)));
        out.push_back(*v);
        if (end == std::string_view::npos) break;
        start = end + 1;
    }
    return out;
}

std::string joinFloats(const std::vector<float>& v) {
    std::string s;
    for (float f : v) s += (s.empty() ? "" : ":") + strFormat("{}", f);
    return s;
}

const model::Tensor* inputTensor(const model::Model& m, size_t index) {
    if (m.subgraphs.empty()) return nullptr;
    const auto& sg = m.main();
    if (index >= sg.inputs.size()) return nullptr;
    return &sg.tensor(sg.inputs[index]);
}

bool isDynamic(const model::Tensor& t, size_t dim) {
    return dim < t.shape_signature.size() && t.shape_signature[dim] < 0;
}

// The largest centred window of `src` with aspect ratio w:h (integer rounding to nearest).
Image centerCrop(const Image& src, int32_t w, int32_t h) {
    int64_t cw = src.width, ch = src.height, x0 = 0, y0 = 0;
    if (int64_t{src.width} * h > int64_t{src.height} * w) {
        cw = (int64_t{src.height} * w * 2 + h) / (2 * int64_t{h});
        x0 = (src.width - cw) / 2;
    } else {
        ch = (int64_t{src.width} * h * 2 + w) / (2 * int64_t{w});
        y0 = (src.height - ch) / 2;
    }
    cw = std::max<int64_t>(cw, 1);
    ch = std::max<int64_t>(ch, 1);
    Image out(static_cast<int32_t>(cw), static_cast<int32_t>(ch), src.channels);
    const size_t row = static_cast<size_t>(cw) * src.channels;
    for (int32_t y = 0; y < out.height; ++y)
        std::memcpy(out.row(y), src.row(static_cast<int32_t>(y + y0)) + x0 * src.channels, row);
    return out;
}

// `src` centred on a canvas of aspect ratio w:h filled with `value`.
Image padToAspect(const Image& src, int32_t w, int32_t h, uint8_t value) {
    int64_t pw = src.width, ph = src.height;
    if (int64_t{src.width} * h > int64_t{src.height} * w)
        ph = (int64_t{src.width} * h * 2 + w) / (2 * int64_t{w});
    else
        pw = (int64_t{src.height} * w * 2 + h) / (2 * int64_t{h});
    pw = std::max<int64_t>(pw, src.width);
    ph = std::max<int64_t>(ph, src.height);
    Image out(static_cast<int32_t>(pw), static_cast<int32_t>(ph), src.channels);
    std::fill(out.pixels.begin(), out.pixels.end(), value);
    const int64_t x0 = (pw - src.width) / 2, y0 = (ph - src.height) / 2;
    const size_t row = static_cast<size_t>(src.width) * src.channels;
    for (int32_t y = 0; y < src.height; ++y)
        std::memcpy(out.row(static_cast<int32_t>(y + y0)) + x0 * src.channels, src.row(y), row);
    return out;
}

}  // namespace

std::string_view cropModeName(CropMode m) {
    switch (m) {
        case CropMode::Stretch:
            return "stretch";
        case CropMode::Center:
            return "center";
        case CropMode::Pad:
            return "pad";
    }
    return "stretch";
}

std::string_view normPresetName(NormPreset p) {
    for (const auto& n : kPresets)
        if (n.preset == p) return n.name;
    return "auto";
}

Result<Pipeline> parsePipeline(std::string_view spec) {
    Pipeline p;
    bool custom_values = false;
    std::optional<NormPreset> preset;
    size_t start = 0;
    while (start <= spec.size()) {
        const size_t end = std::min(spec.find(',', start), spec.size());
        const std::string_view item = spec.substr(start, end - start);
        start = end + 1;
        if (item.empty()) {
            if (end >= spec.size()) break;
            continue;
        }
        const size_t eq = item.find('=');
        if (eq == std::string_view::npos || eq == 0)
            return fail(strFormat("--preprocess '{}' is not KEY=VALUE", std::string(item)));
        const std::string key(item.substr(0, eq));
        const std::string_view value = item.substr(eq + 1);
        if (key == "method") {
            auto m = parseResizeMethod(value);
            if (!m)
                return fail(strFormat("--preprocess method '{}' is not one of {}",
                                      std::string(value), resizeMethodList()));
            p.method = *m;
        } else if (key == "size") {
            const size_t x = value.find('x');
            auto w = x == value.npos ? std::nullopt : parseInt(value.substr(0, x));
            auto h = x == value.npos ? std::nullopt : parseInt(value.substr(x + 1));
            if (!w || !h || *w <= 0 || *h <= 0 || *w > 65536 || *h > 65536)
                return fail(strFormat("--preprocess size '{}' is not WxH (e.g. 224x224)",
                                      std::string(value)));
            p.width = *w;
            p.height = *h;
        } else if (key == "crop") {
            if (value == "stretch" || value == "none")
                p.crop = CropMode::Stretch;
            else if (value == "center")
                p.crop = CropMode::Center;
            else if (value == "pad")
                p.crop = CropMode::Pad;
            else
                return fail(strFormat("--preprocess crop '{}' is not stretch, center or pad",
                                      std::string(value)));
        } else if (key == "pad") {
            auto v = parseInt(value);
            if (!v || *v < 0 || *v > 255)
                return fail(strFormat("--preprocess pad '{}' is not 0..255", std::string(value)));
            p.pad_value = static_cast<uint8_t>(*v);
        } else if (key == "order") {
            if (value == "rgb")
                p.order = ChannelOrder::Rgb;
            else if (value == "bgr")
                p.order = ChannelOrder::Bgr;
            else
                return fail(
                    strFormat("--preprocess order '{}' is not rgb or bgr", std::string(value)));
        } else if (key == "norm") {
            for (const auto& n : kPresets)
                if (n.name == value) preset = n.preset;
            if (!preset || (preset && normPresetName(*preset) != value)) {
                std::string names;
                for (const auto& n : kPresets)
                    names += (names.empty() ? "" : ", ") + std::string(n.name);
                return fail(strFormat("--preprocess norm '{}' is not one of {}", std::string(value),
                                      names));
            }
        } else if (key == "mean" || key == "std") {
            auto v = parseFloats(key, value);
            if (!v) return std::unexpected(v.error());
            if (key == "std" && std::any_of(v->begin(), v->end(), [](float f) { return f == 0; }))
                return fail("--preprocess std must not be 0");
            (key == "mean" ? p.norm.mean : p.norm.std) = std::move(*v);
            custom_values = true;
        } else if (key == "div") {
            auto v = parseFloat(value);
            if (!v || *v == 0)
                return fail(strFormat("--preprocess div '{}' is not a non-zero number",
                                      std::string(value)));
            p.norm.divisor = *v;
            custom_values = true;
        } else {
            return fail(strFormat(
                "--preprocess key '{}' is not one of method, size, crop, pad, order, norm, mean, "
                "std, div",
                key));
        }
    }
    if (custom_values) {
        if (preset && *preset != NormPreset::Custom)
            return fail(strFormat("--preprocess mean/std/div need norm=custom, not norm={}",
                                  std::string(normPresetName(*preset))));
        preset = NormPreset::Custom;
        if (p.norm.mean.empty()) p.norm.mean = {0.0f};
        if (p.norm.std.empty()) p.norm.std = {1.0f};
    } else if (preset == NormPreset::Custom) {
        return fail("--preprocess norm=custom needs mean=... and/or std=...");
    }
    p.norm.preset = preset.value_or(NormPreset::Auto);
    return p;
}

std::string formatPipeline(const Pipeline& p) {
    std::string s = "method=" + std::string(resizeMethodInfo(p.method).name);
    if (p.width > 0 && p.height > 0) s += strFormat(",size={}x{}", p.width, p.height);
    s += ",crop=" + std::string(cropModeName(p.crop));
    if (p.crop == CropMode::Pad && p.pad_value != 0) s += strFormat(",pad={}", int(p.pad_value));
    s += p.order == ChannelOrder::Rgb ? ",order=rgb" : ",order=bgr";
    s += ",norm=" + std::string(normPresetName(p.norm.preset));
    if (p.norm.preset == NormPreset::Custom) {
        s += ",mean=" + joinFloats(p.norm.mean) + ",std=" + joinFloats(p.norm.std);
        if (p.norm.divisor != 1.0f) s += strFormat(",div={}", p.norm.divisor);
    }
    return s;
}

std::string describePipeline(const Pipeline& p) {
    std::string s(resizeMethodInfo(p.method).name);
    if (p.width > 0) s += strFormat(" {}x{}", p.width, p.height);
    if (p.crop == CropMode::Center) s += ", center crop";
    if (p.crop == CropMode::Pad) s += ", padded";
    s += p.order == ChannelOrder::Rgb ? ", rgb, " : ", bgr, ";
    for (const auto& n : kPresets)
        if (n.preset == p.norm.preset) s += n.label;
    if (p.norm.preset == NormPreset::Custom || p.norm.preset == NormPreset::Metadata ||
        p.norm.preset == NormPreset::InputQuant) {
        if (!p.norm.mean.empty())
            s += " (" +
                 std::string(p.norm.divisor != 1.0f ? strFormat("/{} ", p.norm.divisor) : "") +
                 "mean " + joinFloats(p.norm.mean) + ", std " + joinFloats(p.norm.std) + ")";
    }
    return s;
}

Result<NormValues> normValues(const Normalization& n, int32_t channels) {
    NormValues v;
    switch (n.preset) {
        case NormPreset::Raw:
            v.mean = {0.0f};
            v.std = {1.0f};
            break;
        case NormPreset::ZeroOne:
            v.divisor = 255.0f;
            v.mean = {0.0f};
            v.std = {1.0f};
            break;
        case NormPreset::MinusOneOne:
            v.mean = {127.5f};
            v.std = {127.5f};
            break;
        case NormPreset::ImageNet:
            // torchvision ToTensor (/255) then Normalize; RGB order of the constants.
            v.divisor = 255.0f;
            v.mean = {0.485f, 0.456f, 0.406f};
            v.std = {0.229f, 0.224f, 0.225f};
            break;
        case NormPreset::Custom:
        case NormPreset::InputQuant:
        case NormPreset::Metadata:
            if (n.mean.empty() || n.std.empty())
                return fail(strFormat("normalization '{}' has no mean/std values",
                                      std::string(normPresetName(n.preset))));
            v.divisor = n.divisor;
            v.mean = n.mean;
            v.std = n.std;
            break;
        case NormPreset::Auto:
            return fail("normalization 'auto' must be resolved against a model first");
    }
    auto expand = [&](std::vector<float>& x, const char* what) -> Result<void> {
        if (x.size() == 1) x.assign(static_cast<size_t>(channels), x[0]);
        if (x.size() == 3 && channels == 1) {
            // One gray channel with RGB constants (ImageNet): use their mean, as a gray
            // model trained with per-channel constants would have seen averaged values.
            x = {(x[0] + x[1] + x[2]) / 3.0f};
        }
        if (x.size() != static_cast<size_t>(channels))
            return fail(strFormat("normalization {} has {} values for {} channels", what, x.size(),
                                  channels));
        return {};
    };
    if (auto e = expand(v.mean, "mean"); !e) return std::unexpected(e.error());
    if (auto e = expand(v.std, "std"); !e) return std::unexpected(e.error());
    return v;
}

int32_t quantizeValue(float value, float scale, int32_t zero_point, int32_t lo, int32_t hi) {
    const float q = std::round(value / scale);
    // Out-of-range floats saturate before the int conversion (no UB for huge values).
    const float limited = std::clamp(q, -2147483520.0f, 2147483520.0f);
    const int64_t v = static_cast<int64_t>(limited) + zero_point;
    return static_cast<int32_t>(std::clamp<int64_t>(v, lo, hi));
}

Result<Pipeline> resolvePipeline(const Pipeline& p, const model::Model& m, size_t index) {
    const model::Tensor* t = inputTensor(m, index);
    if (!t) return fail(strFormat("the model has no input {}", index));
    if (t->shape.size() != 4 || t->shape[0] != 1 || (t->shape[3] != 1 && t->shape[3] != 3))
        return fail(strFormat("input {} '{}' ({}) is not an image tensor [1, H, W, 1 or 3]", index,
                              t->name, shapeString(t->shape)));
    const model::InputInfo* info = index < m.input_info.size() ? &m.input_info[index] : nullptr;
    Pipeline r = p;
    if (r.width <= 0 || r.height <= 0) {
        const bool dynamic = isDynamic(*t, 1) || isDynamic(*t, 2);
        if (dynamic && info && info->image_size) {
            r.width = info->image_size->first;
            r.height = info->image_size->second;
        } else {
            r.width = t->shape[2];
            r.height = t->shape[1];
        }
    }
    const bool quantized = t->dtype != DType::Float32 && t->quantization.isQuantized();
    NormPreset preset = r.norm.preset;
    if (preset == NormPreset::Auto) {
        if (info && info->normalization)
            preset = NormPreset::Metadata;
        else
            preset = quantized ? NormPreset::InputQuant : NormPreset::ZeroOne;
    }
    r.norm.preset = preset;
    if (preset == NormPreset::Metadata) {
        if (!info || !info->normalization || info->normalization->mean.empty() ||
            info->normalization->std.empty())
            return fail(strFormat("input {} '{}' has no normalization in its TFLite Metadata",
                                  index, t->name));
        r.norm.divisor = 1.0f;
        r.norm.mean = info->normalization->mean;
        r.norm.std = info->normalization->std;
    } else if (preset == NormPreset::InputQuant) {
        if (!quantized || t->quantization.isPerChannel())
            return fail(
                strFormat("norm=input-quant needs a per-tensor quantized input; input {} "
                          "'{}' is not",
                          index, t->name));
        // real = (q - zp) * scale with q = pixel (uint8, int16) or pixel - 128 (int8).
        const float scale = t->quantization.scale();
        const auto zp = static_cast<float>(t->quantization.zeroPoint());
        r.norm.divisor = 1.0f;
        r.norm.mean = {zp + (t->dtype == DType::Int8 ? 128.0f : 0.0f)};
        r.norm.std = {1.0f / scale};
    }
    return r;
}

Result<PreprocessResult> preprocessFor(const Image& image, const Pipeline& p,
                                       const model::Tensor& target) {
    if (image.empty()) return fail("preprocess: empty image");
    if (target.shape.size() != 4 || target.shape[0] != 1 ||
        (target.shape[3] != 1 && target.shape[3] != 3))
        return fail(strFormat("preprocess: target '{}' ({}) is not [1, H, W, 1 or 3]", target.name,
                              shapeString(target.shape)));
    if (p.width <= 0 || p.height <= 0) return fail("preprocess: the pipeline has no size");
    const bool dyn_h = target.shape_signature.size() == 4 && target.shape_signature[1] < 0;
    const bool dyn_w = target.shape_signature.size() == 4 && target.shape_signature[2] < 0;
    if ((p.height != target.shape[1] && !dyn_h) || (p.width != target.shape[2] && !dyn_w))
        return fail(strFormat("preprocess: size {}x{} does not match input '{}' ({})", p.width,
                              p.height, target.name, shapeString(target.shape)));
    const int32_t channels = target.shape[3];
    auto nv = normValues(p.norm, channels);
    if (!nv) return std::unexpected(nv.error());

    PreprocessResult r;
    r.resolved = p;
    const Image converted = channels == 1 ? toGray(image) : toRgb(image);
    switch (p.crop) {
        case CropMode::Stretch:
            r.cropped = converted;
            break;
        case CropMode::Center:
            r.cropped = centerCrop(converted, p.width, p.height);
            break;
        case CropMode::Pad:
            r.cropped = padToAspect(converted, p.width, p.height, p.pad_value);
            break;
    }
    auto resized = resize(r.cropped, p.width, p.height, p.method);
    if (!resized) return std::unexpected(resized.error());
    r.resized = std::move(*resized);
    if (p.order == ChannelOrder::Bgr && channels == 3) {
        for (size_t i = 0; i + 2 < r.resized.values.size(); i += 3)
            std::swap(r.resized.values[i], r.resized.values[i + 2]);
    }

    const std::vector<int32_t> shape = {1, p.height, p.width, channels};
    r.normalized = TensorValue(DType::Float32, shape);
    auto norm = r.normalized.data<float>();
    r.stats.assign(static_cast<size_t>(channels), {std::numeric_limits<double>::infinity(),
                                                   -std::numeric_limits<double>::infinity(), 0.0});
    std::vector<double> sums(static_cast<size_t>(channels), 0.0);
    for (size_t i = 0; i < norm.size(); ++i) {
        const size_t c = i % static_cast<size_t>(channels);
        // float32 throughout, in numpy's order: (x / div - mean) / std.
        const float x = r.resized.values[i];
        const float scaled = nv->divisor == 1.0f ? x : x / nv->divisor;
        const float v = (scaled - nv->mean[c]) / nv->std[c];
        norm[i] = v;
        auto& s = r.stats[c];
        s.min = std::min<double>(s.min, v);
        s.max = std::max<double>(s.max, v);
        sums[c] += v;
    }
    const double per_channel = static_cast<double>(norm.size()) / channels;
    for (size_t c = 0; c < sums.size(); ++c) r.stats[c].mean = sums[c] / per_channel;

    const DType dt = target.dtype;
    if (dt == DType::Float32) {
        r.input = r.normalized;
        return r;
    }
    if (dt != DType::Int8 && dt != DType::UInt8 && dt != DType::Int16)
        return fail(
            strFormat("preprocess: input '{}' has dtype {}; images feed float32, int8, "
                      "uint8 or int16 inputs",
                      target.name, std::string(model::dtypeName(dt))));
    if (target.quantization.isPerChannel())
        return fail(strFormat("preprocess: input '{}' is quantized per channel", target.name));
    // An unquantized integer input takes the values as they are (scale 1, zero point 0).
    const bool quantized = target.quantization.isQuantized();
    const float scale = quantized ? target.quantization.scale() : 1.0f;
    const auto zp = quantized ? static_cast<int32_t>(target.quantization.zeroPoint()) : 0;
    if (!(scale > 0) || !std::isfinite(scale))
        return fail(strFormat("preprocess: input '{}' has scale {}", target.name, scale));
    const int32_t lo = dt == DType::Int8 ? -128 : dt == DType::UInt8 ? 0 : -32768;
    const int32_t hi = dt == DType::Int8 ? 127 : dt == DType::UInt8 ? 255 : 32767;
    r.input = TensorValue(dt, shape);
    r.input.setQuantization(target.quantization);
    QuantizationError qe;
    qe.scale = scale;
    qe.zero_point = zp;
    qe.elements = static_cast<int64_t>(norm.size());
    double sum_abs = 0, sum_sq = 0;
    for (size_t i = 0; i < norm.size(); ++i) {
        const int32_t q = quantizeValue(norm[i], scale, zp, lo, hi);
        const float unclamped = std::round(norm[i] / scale) + static_cast<float>(zp);
        if (unclamped < static_cast<float>(lo) || unclamped > static_cast<float>(hi)) ++qe.clamped;
        switch (dt) {
            case DType::Int8:
                r.input.data<int8_t>()[i] = static_cast<int8_t>(q);
                break;
            case DType::UInt8:
                r.input.data<uint8_t>()[i] = static_cast<uint8_t>(q);
                break;
            default:
                r.input.data<int16_t>()[i] = static_cast<int16_t>(q);
                break;
        }
        const double err = static_cast<double>(q - zp) * scale - norm[i];
        qe.max_abs = std::max(qe.max_abs, std::fabs(err));
        sum_abs += std::fabs(err);
        sum_sq += err * err;
    }
    if (qe.elements > 0) {
        qe.mean_abs = sum_abs / static_cast<double>(qe.elements);
        qe.rms = std::sqrt(sum_sq / static_cast<double>(qe.elements));
    }
    r.quant_error = qe;
    return r;
}

Result<PreprocessResult> preprocess(const Image& image, const Pipeline& p, const model::Model& m,
                                    size_t input_index) {
    auto resolved = resolvePipeline(p, m, input_index);
    if (!resolved) return std::unexpected(resolved.error());
    return preprocessFor(image, *resolved, *inputTensor(m, input_index));
}

}  // namespace qs::engine::preprocess
