// `quantscope-cli inspect` end to end: every conformance model, JSON against index.tsv, and the
// exit statuses for bad input and bad usage.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/process.h"
#include "support/index_tsv.h"

namespace fs = std::filesystem;
using qs::test::runProcess;

namespace {

const fs::path kConformance = QS_CONFORMANCE_DIR;

std::string upper(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

// numpy dtype names in index.tsv -> TFLite's names in the JSON.
std::string tfliteDtype(const std::string& numpy) {
    if (numpy == "bool") return "BOOL";
    return upper(numpy);
}

class InspectConformance : public ::testing::TestWithParam<fs::path> {};

TEST_P(InspectConformance, JsonMatchesIndexTsv) {
    const fs::path dir = GetParam();
    const auto r = runProcess({QS_CLI_PATH, "inspect", (dir / "model.tflite").string(), "--json"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_TRUE(r.err.empty()) << r.err;
    const auto json = nlohmann::json::parse(r.out);
    const auto& tensors = json.at("subgraphs").at(0).at("tensors");
    const auto& ops = json.at("subgraphs").at(0).at("operators");

    // Every model's stored inputs match its input tensors (the one check dilated_conv allows:
    // no oracle kept an index.tsv for it).
    const auto inputs = json.at("subgraphs").at(0).at("inputs").get<std::vector<int>>();
    for (size_t i = 0; i < inputs.size(); ++i) {
        const auto npy = qs::test::readNpyHeader(dir / "inputs" / ("input_" + std::to_string(i) + ".npy"));
        const auto& t = tensors.at(static_cast<size_t>(inputs[i]));
        EXPECT_EQ(t.at("dtype").get<std::string>(), tfliteDtype(npy.dtype)) << "input " << i;
        EXPECT_EQ(t.at("shape").get<std::vector<int>>(), npy.shape) << "input " << i;
    }

    const fs::path oracle = qs::test::firstIndexedOracle(dir);
    if (oracle.empty()) return;  // only dilated_conv: every oracle failed or was not kept
    const auto rows = qs::test::readIndexTsv(oracle);
    ASSERT_FALSE(rows.empty());
    for (const auto& row : rows) {
        SCOPED_TRACE("tensor " + std::to_string(row.tensor_index) + " " + row.name);
        ASSERT_LT(static_cast<size_t>(row.tensor_index), tensors.size());
        const auto& t = tensors.at(static_cast<size_t>(row.tensor_index));
        EXPECT_EQ(t.at("index").get<int>(), row.tensor_index);
        EXPECT_EQ(t.at("name").get<std::string>(), row.name);
        EXPECT_EQ(t.at("dtype").get<std::string>(), tfliteDtype(row.dtype));
        EXPECT_EQ(t.at("shape").get<std::vector<int>>(), row.shape);
        const auto scales = t.at("scales").get<std::vector<double>>();
        ASSERT_EQ(scales.size(), row.scales.size());
        for (size_t i = 0; i < scales.size(); ++i) {
            EXPECT_NEAR(scales[i], row.scales[i], std::abs(row.scales[i]) * 1e-6);
        }
        EXPECT_EQ(t.at("zero_points").get<std::vector<long long>>(), row.zero_points);
        EXPECT_EQ(t.at("quantized_dimension").get<int>(), row.quantized_dimension);
        EXPECT_FALSE(t.at("is_constant").get<bool>());
        if (row.producer_op_index >= 0) {
            ASSERT_LT(static_cast<size_t>(row.producer_op_index), ops.size());
            const auto& op = ops.at(static_cast<size_t>(row.producer_op_index));
            EXPECT_EQ(op.at("opcode").get<std::string>(), row.producer_op_name);
            const auto outs = op.at("outputs").get<std::vector<int>>();
            EXPECT_NE(std::find(outs.begin(), outs.end(), row.tensor_index), outs.end());
        }
    }
}

TEST_P(InspectConformance, TableListsEveryOp) {
    const fs::path dir = GetParam();
    const auto json = runProcess({QS_CLI_PATH, "inspect", (dir / "model.tflite").string(), "--json"});
    ASSERT_EQ(json.status, 0);
    const auto r = runProcess({QS_CLI_PATH, "inspect", (dir / "model.tflite").string()});
    ASSERT_EQ(r.status, 0) << r.err;
    for (const auto& op : nlohmann::json::parse(json.out).at("subgraphs").at(0).at("operators")) {
        EXPECT_NE(r.out.find(op.at("opcode").get<std::string>()), std::string::npos);
    }
}

std::string paramName(const ::testing::TestParamInfo<fs::path>& info) {
    std::string n = info.param.filename().string();
    for (auto& c : n) {
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    }
    return n;
}

INSTANTIATE_TEST_SUITE_P(Conformance, InspectConformance,
                         ::testing::ValuesIn(qs::test::conformanceModels(kConformance)), paramName);

// Exactly one line on stderr, starting with "error: ".
void expectOneErrorLine(const qs::test::ProcessResult& r) {
    ASSERT_FALSE(r.err.empty());
    EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

fs::path tempPath(const std::string& name) {
    return fs::path(::testing::TempDir()) / ("qs_cli_" + name);
}

TEST(InspectErrors, MissingFileIsBadInput) {
    const auto r = runProcess({QS_CLI_PATH, "inspect", "/nonexistent/model.tflite"});
    EXPECT_EQ(r.status, 2);
    expectOneErrorLine(r);
}

TEST(InspectErrors, TruncatedModelIsBadInput) {
    std::ifstream in(kConformance / "resnet8_cifar_int8" / "model.tflite", std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_GT(bytes.size(), 1000u);
    for (const size_t keep : {size_t{0}, size_t{7}, size_t{100}, bytes.size() / 2, bytes.size() - 1}) {
        const fs::path p = tempPath("truncated.tflite");
        std::ofstream(p, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(keep));
        const auto r = runProcess({QS_CLI_PATH, "inspect", p.string()});
        EXPECT_EQ(r.status, 2) << "kept " << keep << " bytes";
        expectOneErrorLine(r);
    }
}

TEST(InspectErrors, ImageIsBadInput) {
    const auto r = runProcess(
        {QS_CLI_PATH, "inspect", std::string(QS_SAMPLES_DIR) + "/images/tflsupport_sparrow.png"});
    EXPECT_EQ(r.status, 2);
    expectOneErrorLine(r);
}

TEST(InspectErrors, UsageErrors) {
    EXPECT_EQ(runProcess({QS_CLI_PATH}).status, 1);
    EXPECT_EQ(runProcess({QS_CLI_PATH, "inspect"}).status, 1);
    EXPECT_EQ(runProcess({QS_CLI_PATH, "inspect", "a.tflite", "b.tflite"}).status, 1);
    const auto unknown = runProcess({QS_CLI_PATH, "inspect", "--frobnicate", "a.tflite"});
    EXPECT_EQ(unknown.status, 1);
    expectOneErrorLine(unknown);
    EXPECT_EQ(runProcess({QS_CLI_PATH, "no-such-command"}).status, 1);
    EXPECT_EQ(runProcess({QS_CLI_PATH, "--help"}).status, 0);
}

}  // namespace
