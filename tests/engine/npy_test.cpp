// .npy reading and writing: round trips for every supported dtype, format 2.0 headers, and
// one-line errors for broken files.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "engine/io/npy.h"

using namespace qs::engine;
using qs::model::DType;
namespace fs = std::filesystem;

namespace {

fs::path tempDir() {
    auto d = fs::temp_directory_path() / ("qs_npy_test_" + std::to_string(::getpid()));
    fs::create_directories(d);
    return d;
}

std::vector<uint8_t> header(const std::string& dict, int major = 1) {
    std::string h = dict;
    const size_t prefix = major == 1 ? 10 : 12;
    while ((prefix + h.size() + 1) % 64) h += ' ';
    h += '\n';
    std::vector<uint8_t> out = {0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<uint8_t>(major), 0};
    out.push_back(static_cast<uint8_t>(h.size() & 0xff));
    out.push_back(static_cast<uint8_t>(h.size() >> 8));
    if (major == 2) out.insert(out.end(), {0, 0});
    out.insert(out.end(), h.begin(), h.end());
    return out;
}

TEST(Npy, RoundTripEveryDtype) {
    const auto dir = tempDir();
    for (DType t : {DType::Int8, DType::UInt8, DType::Int16, DType::Int32, DType::Int64,
                    DType::Float16, DType::Float32, DType::Float64, DType::Bool}) {
        TensorValue v(t, {2, 3, 1});
        auto b = v.bytes();
        for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<uint8_t>(i * 37 + 11);
        if (t == DType::Bool)
            for (auto& x : b) x &= 1;
        const auto path = dir / "v.npy";
        ASSERT_TRUE(writeNpy(path, v));
        auto back = readNpy(path);
        ASSERT_TRUE(back) << back.error().message;
        EXPECT_TRUE(back->sameContents(v)) << qs::model::dtypeName(t);
    }
    // Scalars and 1-D shapes use numpy's tuple spelling "()" and "(5,)".
    TensorValue scalar(DType::Float32, {});
    ASSERT_TRUE(writeNpy(dir / "s.npy", scalar));
    EXPECT_EQ(readNpy(dir / "s.npy")->shape().size(), 0u);
    TensorValue vec(DType::Int32, {5});
    auto enc = encodeNpy(vec);
    ASSERT_TRUE(enc);
    EXPECT_NE(std::string(enc->begin(), enc->end()).find("'shape': (5,)"), std::string::npos);
    EXPECT_EQ(enc->size() % 64, 20u);  // header padded to 64, then 5 * 4 data bytes
    // Atomic write leaves no temporary file behind.
    for (const auto& e : fs::directory_iterator(dir))
        EXPECT_EQ(e.path().extension(), ".npy") << e.path();
    fs::remove_all(dir);
}

TEST(Npy, ReadsVersion2AndNativeByteOrder) {
    auto bytes = header("{'descr': '=i2', 'fortran_order': False, 'shape': (2, 2), }", 2);
    for (int i = 0; i < 4; ++i) bytes.insert(bytes.end(), {static_cast<uint8_t>(i), 0});
    auto v = parseNpy(bytes, "v2.npy");
    ASSERT_TRUE(v) << v.error().message;
    EXPECT_EQ(v->dtype(), DType::Int16);
    EXPECT_EQ(v->data<int16_t>()[3], 3);
}

TEST(Npy, BadFilesGiveOneLineErrors) {
    auto expectError = [](std::vector<uint8_t> bytes, const std::string& fragment) {
        auto v = parseNpy(bytes, "bad.npy");
        ASSERT_FALSE(v);
        EXPECT_NE(v.error().message.find(fragment), std::string::npos) << v.error().message;
        EXPECT_EQ(v.error().message.find('\n'), std::string::npos);
        EXPECT_EQ(v.error().message.rfind("bad.npy", 0), 0u);
    };
    expectError({'P', 'K', 3, 4, 0, 0, 0, 0, 0, 0, 0}, "magic");
    auto h = header("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }");
    expectError(h, "needs 12");  // no data
    expectError(header("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }"), "big-endian");
    expectError(header("{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }"), "Fortran");
    expectError(header("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }"),
                "unsupported dtype");
    expectError(header("{'fortran_order': False, 'shape': (1,), }"), "descr");
    auto trunc = header("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }");
    trunc.resize(30);
    expectError(trunc, "truncated");
    auto missing = readNpy("/nonexistent/dir/x.npy");
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().message.find("/nonexistent/dir/x.npy"), std::string::npos);
}

}  // namespace
