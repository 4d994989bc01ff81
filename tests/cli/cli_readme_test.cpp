// README.md must hold what the code says: its rounding-rule table is exactly the output of
// `quantscope-cli rules --markdown`, and its Quick start names commands that exist.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "cli/process.h"

namespace {

std::string readFile(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

TEST(Readme, RuleTableMatchesTheEngine) {
    const std::string readme = readFile(std::string(QS_SOURCE_DIR) + "/README.md");
    const std::string begin = "<!-- rules:begin -->\n", end = "<!-- rules:end -->";
    const auto b = readme.find(begin);
    const auto e = readme.find(end);
    ASSERT_NE(b, std::string::npos) << "README.md lacks the " << begin << " marker";
    ASSERT_NE(e, std::string::npos);
    const std::string inReadme = readme.substr(b + begin.size(), e - b - begin.size());
    const auto r = qs::test::runProcess({QS_CLI_PATH, "rules", "--markdown"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(inReadme, r.out)
        << "README.md's rule table is stale: regenerate it with "
           "`build/app/quantscope-cli rules --markdown` between the rules:begin/end markers";
}

TEST(Readme, QuickStartCommandsNameRealTargets) {
    const std::string readme = readFile(std::string(QS_SOURCE_DIR) + "/README.md");
    EXPECT_NE(readme.find("## Quick start"), std::string::npos);
    EXPECT_NE(readme.find("build/app/quantscope resources/samples/resnet8_cifar_int8.tflite"),
              std::string::npos);
    EXPECT_NE(readme.find("ctest --test-dir build"), std::string::npos);
    std::ifstream sample(std::string(QS_SOURCE_DIR) + "/resources/samples/resnet8_cifar_int8.tflite");
    EXPECT_TRUE(sample.good());
}

}  // namespace
