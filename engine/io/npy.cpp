#include "engine/io/npy.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <random>
#include <string_view>
#include "model/str_format.h"

namespace qs::engine {

using model::DType;

namespace {

constexpr std::string_view kMagic = "\x93NUMPY";

struct DescrEntry {
    std::string_view descr;
    DType dtype;
};
// '|' (not applicable) and '<' (little-endian) spellings numpy writes; '=' is native, which is
// little-endian on every platform we build for.
constexpr DescrEntry kDescrs[] = {
    {"|i1", DType::Int8},    {"<i1", DType::Int8},    {"|u1", DType::UInt8},
    {"<u1", DType::UInt8},   {"<i2", DType::Int16},   {"<i4", DType::Int32},
    {"<i8", DType::Int64},   {"<f2", DType::Float16}, {"<f4", DType::Float32},
    {"<f8", DType::Float64}, {"|b1", DType::Bool},    {"<u2", DType::UInt16},
    {"<u4", DType::UInt32},  {"<u8", DType::UInt64},
};

std::optional<DType> dtypeFromDescr(std::string_view d) {
    std::string norm(d);
    if (!norm.empty() && norm[0] == '=') norm[0] = '<';
    for (const auto& e : kDescrs)
        if (e.descr == norm) return e.dtype;
    return std::nullopt;
}

std::string_view descrFor(DType t) {
    switch (t) {
        case DType::Int8:
            return "|i1";
        case DType::UInt8:
            return "|u1";
        case DType::Bool:
            return "|b1";
        case DType::Int16:
            return "<i2";
        case DType::UInt16:
            return "<u2";
        case DType::Int32:
            return "<i4";
        case DType::UInt32:
            return "<u4";
        case DType::Int64:
            return "<i8";
        case DType::UInt64:
            return "<u8";
        case DType::Float16:
            return "<f2";
        case DType::Float32:
            return "<f4";
        case DType::Float64:
            return "<f8";
        default:
            return {};
    }
}

// Finds `'key':` in the header dict and returns the text after the colon.
std::optional<std::string_view> valueOf(std::string_view header, std::string_view key) {
    for (char q : {'\'', '"'}) {
        std::string k = std::string(1, q) + std::string(key) + std::string(1, q);
        auto pos = header.find(k);
        if (pos == std::string_view::npos) continue;
        pos = header.find(':', pos + k.size());
        if (pos == std::string_view::npos) return std::nullopt;
        auto rest = header.substr(pos + 1);
        while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
        return rest;
    }
    return std::nullopt;
}

}  // namespace

Result<TensorValue> parseNpy(std::span<const uint8_t> bytes, const std::string& name) {
    auto bad = [&](std::string_view what) {
        return fail(strFormat("{}: not a valid .npy file: {}", name, what));
    };
    if (bytes.size() < 10 || std::memcmp(bytes.data(), kMagic.data(), kMagic.size()) != 0)
        return bad("missing \\x93NUMPY magic");
    const int major = bytes[6];
    size_t header_len = 0, header_start = 0;
    if (major == 1) {
        header_len = bytes[8] | (size_t(bytes[9]) << 8);
        header_start = 10;
    } else if (major == 2 || major == 3) {
        if (bytes.size() < 12) return bad("truncated header");
        header_len = bytes[8] | (size_t(bytes[9]) << 8) | (size_t(bytes[10]) << 16) |
                     (size_t(bytes[11]) << 24);
        header_start = 12;
    } else {
        return bad(strFormat("unsupported format version {}.{}", major, int(bytes[7])));
    }
    if (header_start + header_len > bytes.size()) return bad("truncated header");
    std::string_view header(reinterpret_cast<const char*>(bytes.data() + header_start), header_len);

    auto descr = valueOf(header, "descr");
    if (!descr || descr->empty() || (descr->front() != '\'' && descr->front() != '"'))
        return bad("header has no 'descr'");
    const char quote = descr->front();
    auto end = descr->find(quote, 1);
    if (end == std::string_view::npos) return bad("unterminated 'descr'");
    std::string_view d = descr->substr(1, end - 1);
    auto dtype = dtypeFromDescr(d);
    if (!dtype) {
        if (!d.empty() && d[0] == '>')
            return fail(strFormat("{}: big-endian arrays ('{}') are not supported", name, d));
        return fail(strFormat("{}: unsupported dtype '{}'", name, d));
    }

    auto fortran = valueOf(header, "fortran_order");
    if (!fortran) return bad("header has no 'fortran_order'");
    if (fortran->starts_with("True"))
        return fail(strFormat("{}: Fortran-order arrays are not supported", name));

    auto shape_text = valueOf(header, "shape");
    if (!shape_text || shape_text->empty() || shape_text->front() != '(')
        return bad("header has no 'shape'");
    auto close = shape_text->find(')');
    if (close == std::string_view::npos) return bad("unterminated 'shape'");
    std::vector<int32_t> shape;
    std::string_view dims = shape_text->substr(1, close - 1);
    while (!dims.empty()) {
        while (!dims.empty() && (dims.front() == ' ' || dims.front() == ',')) dims.remove_prefix(1);
        if (dims.empty()) break;
        int64_t v = 0;
        size_t i = 0;
        while (i < dims.size() && dims[i] >= '0' && dims[i] <= '9') {
            v = v * 10 + (dims[i] - '0');
            if (v > INT32_MAX) return bad("dimension too large");
            ++i;
        }
        if (i == 0) return bad("malformed 'shape'");
        shape.push_back(static_cast<int32_t>(v));
        dims.remove_prefix(i);
    }

    const size_t data_start = header_start + header_len;
    const size_t need = static_cast<size_t>(shapeElements(shape)) * dtypeSize(*dtype);
    const size_t have = bytes.size() - data_start;
    if (have != need)
        return fail(strFormat("{}: data has {} bytes, shape ({}) of {} needs {}", name, have,
                              shapeString(shape), d, need));
    return TensorValue::fromBytes(*dtype, std::move(shape), bytes.subspan(data_start));
}

Result<TensorValue> readNpy(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail(strFormat("{}: cannot open: {}", path.string(), std::strerror(errno)));
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                               std::istreambuf_iterator<char>());
    if (in.bad()) return fail(strFormat("{}: read error", path.string()));
    return parseNpy(bytes, path.string());
}

Result<std::vector<uint8_t>> encodeNpy(const TensorValue& value) {
    auto descr = descrFor(value.dtype());
    if (descr.empty())
        return fail(strFormat("cannot write a {} tensor as .npy", model::dtypeName(value.dtype())));
    std::string shape = "(";
    for (size_t i = 0; i < value.shape().size(); ++i) {
        shape += std::to_string(value.shape()[i]);
        shape += value.shape().size() == 1 ? "," : (i + 1 < value.shape().size() ? ", " : "");
    }
    shape += ")";
    std::string header =
        "{'descr': '" + std::string(descr) + "', 'fortran_order': False, 'shape': " + shape + ", }";
    // The header (incl. magic, version, length and the final '\n') pads to a multiple of 64.
    size_t prefix = 10;
    int major = 1;
    if (header.size() + 1 + prefix > 65535 + prefix) {
        major = 2;
        prefix = 12;
    }
    const size_t total = (prefix + header.size() + 1 + 63) / 64 * 64;
    header.append(total - prefix - header.size() - 1, ' ');
    header.push_back('\n');

    std::vector<uint8_t> out;
    out.reserve(total + value.byteSize());
    out.insert(out.end(), kMagic.begin(), kMagic.end());
    out.push_back(static_cast<uint8_t>(major));
    out.push_back(0);
    const size_t hl = header.size();
    out.push_back(static_cast<uint8_t>(hl & 0xff));
    out.push_back(static_cast<uint8_t>((hl >> 8) & 0xff));
    if (major == 2) {
        out.push_back(static_cast<uint8_t>((hl >> 16) & 0xff));
        out.push_back(static_cast<uint8_t>((hl >> 24) & 0xff));
    }
    out.insert(out.end(), header.begin(), header.end());
    auto b = value.bytes();
    out.insert(out.end(), b.begin(), b.end());
    return out;
}

Result<void> writeFileAtomic(const std::filesystem::path& path, std::span<const uint8_t> bytes) {
    namespace fs = std::filesystem;
    const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
    std::random_device rd;
    const fs::path tmp = dir / strFormat(".{}.tmp{}-{}", path.filename().string(),
                                         static_cast<long>(::getpid()), rd());
    FILE* f = std::fopen(tmp.c_str(), "wb");
    if (!f) return fail(strFormat("{}: cannot create: {}", tmp.string(), std::strerror(errno)));
    const bool ok = bytes.empty() || std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
    const bool flushed = std::fflush(f) == 0;
    const bool closed = std::fclose(f) == 0;
    if (!ok || !flushed || !closed) {
        std::error_code ec;
        fs::remove(tmp, ec);
        return fail(strFormat("{}: write failed", path.string()));
    }
    std::error_code ec;
    fs::rename(tmp, path, ec);
    if (ec) {
        fs::remove(tmp, ec);
        return fail(strFormat("{}: cannot rename temporary file: {}", path.string(), ec.message()));
    }
    return {};
}

Result<void> writeNpy(const std::filesystem::path& path, const TensorValue& value) {
    auto bytes = encodeNpy(value);
    if (!bytes) {
        bytes.error().message = path.string() + ": " + bytes.error().message;
        return std::unexpected(bytes.error());
    }
    return writeFileAtomic(path, *bytes);
}

}  // namespace qs::engine
