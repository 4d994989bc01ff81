// `quantscope-cli rules [--markdown]`: which integer arithmetic each rounding profile applies to
// each op and dtype, and the upstream source it reproduces (engine/profiles/rule_table.h).
// README.md embeds the --markdown output; tests/cli checks that the two agree.
#include <cstdio>
#include <string>

#include "app/cli/args.h"
#include "app/cli/commands.h"
#include "engine/profiles/rule_table.h"

namespace qs::cli {

namespace {

std::string cell(std::string_view s) {
    std::string out;
    for (const char c : s) out += c == '|' ? std::string("\\|") : std::string(1, c);
    return out;
}

}  // namespace

int cmdRules(std::span<const std::string> argv) {
    const auto args = Args::parse(argv, ArgSpec{.flags = {"--markdown"}});
    if (!args) return reportError(args.error(), kExitUsage);
    if (!args->positional().empty()) {
        return reportError(fail("usage: quantscope-cli rules [--markdown]").error(), kExitUsage);
    }
    const bool markdown = args->has("--markdown");
    if (markdown) {
        std::printf("| profile | op | dtype | requantization | upstream source | note |\n");
        std::printf("|---|---|---|---|---|---|\n");
    }
    for (const auto& r : engine::ruleTable()) {
        const std::string profile(engine::profileName(r.profile));
        const std::string op(model::builtinOpName(r.op));
        const std::string rule(engine::requantRuleName(r.rule));
        if (markdown) {
            std::printf("| %s | %s | %s | %s | `%s` | %s |\n", profile.c_str(), op.c_str(),
                        cell(r.dtype).c_str(), rule.c_str(), cell(r.upstream).c_str(),
                        cell(r.note).c_str());
        } else {
            std::printf("%-16s %-20s %-6s %-18s %s%s%s\n", profile.c_str(), op.c_str(),
                        std::string(r.dtype).c_str(), rule.c_str(), std::string(r.upstream).c_str(),
                        r.note.empty() ? "" : " — ", std::string(r.note).c_str());
        }
    }
    return kExitOk;
}

}  // namespace qs::cli
