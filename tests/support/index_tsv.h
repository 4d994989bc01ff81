// Reader for the conformance folders' index.tsv (see ../shared/conformance/README.md):
// tensor_index, name, dtype, shape, scales, zero_points, quantized_dimension,
// producer_op_index, producer_op_name, role.
#pragma once

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace qs::test {

struct IndexRow {
    int tensor_index = -1;
    std::string name;
    std::string dtype;  // lower-case numpy name: int8, float32, ...
    std::vector<int> shape;
    std::vector<double> scales;
    std::vector<long long> zero_points;
    int quantized_dimension = -1;
    int producer_op_index = -1;
    std::string producer_op_name;
    std::string role;
};

inline std::vector<std::string> splitOn(const std::string& s, char sep) {
    std::vector<std::string> parts;
    std::string cur;
    std::istringstream in(s);
    while (std::getline(in, cur, sep)) parts.push_back(cur);
    if (!s.empty() && s.back() == sep) parts.emplace_back();
    return parts;
}

template <class T>
std::vector<T> parseList(const std::string& s) {
    std::vector<T> out;
    if (s.empty()) return out;
    for (const auto& p : splitOn(s, ',')) {
        if (p.empty()) continue;
        std::istringstream in(p);
        T v{};
        in >> v;
        out.push_back(v);
    }
    return out;
}

// Rows of `<dir>/index.tsv`; empty when the file does not exist.
inline std::vector<IndexRow> readIndexTsv(const std::filesystem::path& dir) {
    std::vector<IndexRow> rows;
    std::ifstream in(dir / "index.tsv");
    std::string line;
    if (!std::getline(in, line)) return rows;  // header
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        const auto f = splitOn(line, '\t');
        if (f.size() < 10) continue;
        IndexRow r;
        r.tensor_index = std::stoi(f[0]);
        r.name = f[1];
        r.dtype = f[2];
        r.shape = parseList<int>(f[3]);
        r.scales = parseList<double>(f[4]);
        r.zero_points = parseList<long long>(f[5]);
        r.quantized_dimension = std::stoi(f[6]);
        r.producer_op_index = std::stoi(f[7]);
        r.producer_op_name = f[8];
        r.role = f[9];
        rows.push_back(std::move(r));
    }
    return rows;
}

// The conformance model folders (those with a model.tflite), sorted by name.
inline std::vector<std::filesystem::path> conformanceModels(const std::filesystem::path& root) {
    std::vector<std::filesystem::path> out;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(root, ec)) {
        if (e.is_directory() && std::filesystem::exists(e.path() / "model.tflite")) out.push_back(e.path());
    }
    std::sort(out.begin(), out.end());
    return out;
}

// The first oracle folder of a model that holds an index.tsv (tflm, tflm_single_rounding,
// litert, tflite_builtin), or an empty path.
inline std::filesystem::path firstIndexedOracle(const std::filesystem::path& modelDir) {
    for (const char* o : {"tflm", "tflm_single_rounding", "litert", "tflite_builtin"}) {
        if (std::filesystem::exists(modelDir / o / "index.tsv")) return modelDir / o;
    }
    return {};
}

// The dtype ("int8", "float32", ...) and shape in a .npy file's header; empty dtype when the
// file cannot be read. Enough for tests that check inputs against a model's input tensors.
struct NpyHeader {
    std::string dtype;
    std::vector<int> shape;
};
inline NpyHeader readNpyHeader(const std::filesystem::path& path) {
    NpyHeader h;
    std::ifstream in(path, std::ios::binary);
    std::string head(512, '\0');
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    head.resize(static_cast<size_t>(in.gcount()));
    const auto descr = head.find("'descr': '");
    const auto shape = head.find("'shape': (");
    if (head.rfind("\x93NUMPY", 0) != 0 || descr == std::string::npos || shape == std::string::npos)
        return h;
    const std::string code = head.substr(descr + 10, head.find('\'', descr + 10) - descr - 10);
    static const std::pair<const char*, const char*> kNames[] = {
        {"|i1", "int8"}, {"|u1", "uint8"}, {"<i2", "int16"}, {"<i4", "int32"}, {"<i8", "int64"},
        {"<f2", "float16"}, {"<f4", "float32"}, {"<f8", "float64"}, {"|b1", "bool"}};
    for (const auto& [c, n] : kNames) {
        if (code == c) h.dtype = n;
    }
    h.shape = parseList<int>(head.substr(shape + 10, head.find(')', shape) - shape - 10));
    return h;
}

}  // namespace qs::test
