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

}  // namespace qs::test
