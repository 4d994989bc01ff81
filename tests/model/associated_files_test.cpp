// model/associated_files.h: the zip archive tflite-support appends to a model, read from the
// real MobileNet file and from damaged copies of it (truncated, bytes flipped): never a crash,
// a one-line error or nothing.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "model/associated_files.h"
#include "model/loader.h"

using namespace qs::model;

namespace {

const std::string kMobilenet =
    std::string(QS_CONFORMANCE_DIR) + "/mobilenet_v1_0.25_224_quant/model.tflite";

std::vector<uint8_t> fileBytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST(AssociatedFiles, MobilenetLabels) {
    auto m = loadModel(kMobilenet);
    ASSERT_TRUE(m.has_value()) << m.error().message;
    EXPECT_EQ(associatedFileNames(*m), std::vector<std::string>{"labels.txt"});
    auto bytes = readAssociatedFile(*m, "labels.txt");
    ASSERT_TRUE(bytes.has_value()) << bytes.error().message;
    EXPECT_EQ(bytes->size(), 10484u);  // Python's zipfile reports the same size
    ASSERT_EQ(m->output_info.size(), 1u);
    EXPECT_EQ(m->output_info[0].label_files, std::vector<std::string>{"labels.txt"});
    auto labels = outputLabels(*m, 0);
    ASSERT_TRUE(labels.has_value());
    ASSERT_EQ(labels->size(), 1001u);
    EXPECT_EQ(labels->back(), "toilet tissue");
    EXPECT_TRUE(outputLabels(*m, 5)->empty());  // no such output: no labels, no error
    auto missing = readAssociatedFile(*m, "vocab.txt");
    ASSERT_FALSE(missing.has_value());
    EXPECT_NE(missing.error().message.find("no packed file 'vocab.txt'"), std::string::npos);
}

TEST(AssociatedFiles, ModelWithoutArchive) {
    auto m = loadModel(std::string(QS_CONFORMANCE_DIR) + "/resnet8_cifar_int8/model.tflite");
    ASSERT_TRUE(m.has_value()) << m.error().message;
    EXPECT_TRUE(associatedFileNames(*m).empty());
    EXPECT_TRUE(outputLabels(*m, 0)->empty());
    auto r = readAssociatedFile(*m, "labels.txt");
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.error().message.find("no packed files"), std::string::npos);
}

TEST(AssociatedFiles, DamagedArchivesNeverCrash) {
    const auto original = fileBytes(kMobilenet);
    ASSERT_GT(original.size(), 10484u + 100);
    const size_t zipStart = original.size() - 10484 - 200;  // local header + data + directory
    // Truncated anywhere in the archive.
    for (size_t cut = zipStart; cut < original.size(); cut += 37) {
        std::vector<uint8_t> b(original.begin(), original.begin() + static_cast<long>(cut));
        auto m = loadModelFromBuffer(b, "cut");
        if (!m) continue;
        auto r = readAssociatedFile(*m, "labels.txt");
        if (!r) {
            EXPECT_EQ(r.error().message.find('\n'), std::string::npos);
        }
        (void)outputLabels(*m, 0);
    }
    // Single bytes flipped in the archive's headers (the last 120 bytes hold the central
    // directory and end record).
    for (size_t at = original.size() - 120; at < original.size(); ++at) {
        auto b = original;
        b[at] ^= 0xff;
        auto m = loadModelFromBuffer(b, "flip");
        ASSERT_TRUE(m.has_value());
        (void)associatedFileNames(*m);
        auto r = readAssociatedFile(*m, "labels.txt");
        if (r) {
            EXPECT_LE(r->size(), b.size());
        }
    }
}
