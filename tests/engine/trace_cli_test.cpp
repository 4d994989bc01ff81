// `quantscope-cli trace`: exit statuses, the one-line errors, the JSON shape and the text
// marker, on resnet8_cifar_int8 with its golden input and golden outputs.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/io/npy.h"
#include "engine/trace/profile_diff.h"

namespace fs = std::filesystem;
using namespace qs;

namespace {

struct Result {
    int status = -1;
    std::string out, err;
};

std::string quote(const std::string& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

Result runCli(const std::vector<std::string>& args) {
    const fs::path err_file =
        fs::temp_directory_path() / ("qs_trace_cli_" + std::to_string(::getpid()) + ".err");
    std::string cmd = quote(QS_CLI_PATH);
    for (const auto& a : args) cmd += " " + quote(a);
    cmd += " 2>" + quote(err_file.string());
    Result r;
    FILE* p = ::popen(cmd.c_str(), "r");
    if (!p) return r;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
    const int st = ::pclose(p);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    std::ifstream e(err_file);
    std::stringstream ss;
    ss << e.rdbuf();
    r.err = ss.str();
    fs::remove(err_file);
    return r;
}

const fs::path kDir = fs::path(QS_CONFORMANCE_DIR) / "resnet8_cifar_int8";
const std::string kModel = (kDir / "model.tflite").string();
const std::string kInput = "0=" + (kDir / "inputs" / "input_0.npy").string();

// The first CONV_2D output (tensor 22) has 10 elements where tflm and tflm_single_rounding
// differ; the first of them, from the golden files.
struct GoldenElement {
    std::string coord;  // "0,y,x,c"
    int reference = 0, single = 0;
};
GoldenElement firstDifferingElement() {
    auto a = engine::readNpy(kDir / "tflm" / "t22.npy");
    auto b = engine::readNpy(kDir / "tflm_single_rounding" / "t22.npy");
    GoldenElement g;
    if (!a || !b) {
        ADD_FAILURE() << "golden data missing under " << kDir;
        return g;
    }
    auto d = engine::trace::diffTensor(*a, *b);
    if (!d || d->indices.empty()) {
        ADD_FAILURE() << "no differing element in the golden data";
        return g;
    }
    const int64_t flat = d->indices.front();
    const auto& s = a->shape();
    int64_t r = flat;
    std::vector<int64_t> c(s.size());
    for (size_t i = s.size(); i-- > 0;) {
        c[i] = r % s[i];
        r /= s[i];
    }
    for (size_t i = 0; i < c.size(); ++i) g.coord += (i ? "," : "") + std::to_string(c[i]);
    g.reference = a->data<int8_t>()[static_cast<size_t>(flat)];
    g.single = b->data<int8_t>()[static_cast<size_t>(flat)];
    return g;
}

TEST(TraceCli, JsonAllProfilesHasOneObjectPerProfileAndMatchesTheGoldenData) {
    const auto g = firstDifferingElement();
    auto r = runCli(
        {"trace", kModel, "--tensor", "22", "--element", g.coord, "--input", kInput, "--json"});
    ASSERT_EQ(r.status, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["op"], 0);
    EXPECT_EQ(j["op_name"], "CONV_2D");
    EXPECT_EQ(j["tensor"], 22);
    ASSERT_EQ(j["profiles"].size(), 4u);
    std::map<std::string, int> outputs;
    for (const auto& p : j["profiles"]) {
        ASSERT_TRUE(p["output"].is_number_integer());
        ASSERT_TRUE(p["steps"].is_array());
        outputs[p["profile"]] = p["output"];
    }
    EXPECT_EQ(outputs["reference"], g.reference);
    EXPECT_EQ(outputs["single-rounding"], g.single);
    EXPECT_EQ(j["run_output"], g.reference);
    ASSERT_TRUE(j["parting"].is_object());
    EXPECT_EQ(j["parting"]["key"], "scaled");
    EXPECT_FALSE(j.contains("output"));  // only with a single profile
    EXPECT_TRUE(j["terms"].is_array());
    EXPECT_EQ(j["terms"].size(), 27u - j["skipped_taps"].get<size_t>());  // 3x3x3 window
}

TEST(TraceCli, JsonSingleProfileHasTopLevelOutput) {
    const auto g = firstDifferingElement();
    for (auto [profile, want] :
         {std::pair<std::string, int>{"reference", g.reference}, {"single-rounding", g.single}}) {
        auto r = runCli({"trace", kModel, "--tensor", "22", "--element", g.coord, "--input", kInput,
                         "--profile", profile, "--json"});
        ASSERT_EQ(r.status, 0) << r.err;
        const auto j = nlohmann::json::parse(r.out);
        EXPECT_EQ(j["output"], want) << profile;
        EXPECT_EQ(j["profile"], profile);
        EXPECT_EQ(j["profiles"].size(), 1u);
        EXPECT_EQ(j["run_output"], want);  // the model ran under that profile
    }
}

TEST(TraceCli, TextMarksTheParting) {
    const auto g = firstDifferingElement();
    auto r = runCli({"trace", kModel, "--tensor", "22", "--element", g.coord, "--input", kInput});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("<== profiles part"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("profiles part at"), std::string::npos);
    EXPECT_NE(r.out.find("profile builtin (ruy-x86)"), std::string::npos);
    EXPECT_NE(r.out.find("SaturatingRoundingDoublingHighMul"), std::string::npos);
}

TEST(TraceCli, ExitStatuses) {
    // Bad input: 2, one "error:" line.
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"trace", kModel, "--tensor", "22", "--element", "0,32,0,0"},  // outside
             {"trace", kModel, "--tensor", "22", "--element", "0,1"},       // wrong rank
             {"trace", kModel, "--tensor", "0", "--element", "0,0,0,0"},    // graph input
             {"trace", kModel, "--tensor", "no_such_tensor", "--element", "0"},
             {"trace", "/nonexistent.tflite", "--tensor", "1", "--element", "0"},
         }) {
        auto r = runCli(args);
        EXPECT_EQ(r.status, 2) << args[3] << " " << args[5] << "\n" << r.err;
        EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
        EXPECT_TRUE(r.out.empty());
    }
    // The SOFTMAX output: produced by an op the trace does not support.
    auto s = runCli({"trace", kModel, "--tensor", "Identity_int8", "--element", "0,0"});
    EXPECT_EQ(s.status, 2) << s.err;
    EXPECT_NE(s.err.find("which the trace does not support"), std::string::npos) << s.err;
    // Usage: 1.
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"trace", kModel, "--element", "0,0,0,0"},
             {"trace", kModel, "--tensor", "22"},
             {"trace", kModel, "--tensor", "22", "--element", "0,a,0,0"},
             {"trace", kModel, "--tensor", "22", "--element", "0,0,0,0", "--profile", "fast"},
             {"trace", "--tensor", "22", "--element", "0,0,0,0"},
         }) {
        auto r = runCli(args);
        EXPECT_EQ(r.status, 1) << r.err;
        EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
    }
}

}  // namespace
