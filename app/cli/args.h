// Tiny argument reader for quantscope-cli subcommands: positional arguments plus
// `--flag`, `--key VALUE` and `--key=VALUE` options, with repeatable keys.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "model/error.h"

namespace qs::cli {

// Exit statuses shared by every subcommand.
inline constexpr int kExitOk = 0;
inline constexpr int kExitUsage = 1;
inline constexpr int kExitBadInput = 2;

struct ArgSpec {
    std::set<std::string> flags;       // options without a value, e.g. "--json"
    std::set<std::string> valued;      // options taking one value, e.g. "--dump"
    std::set<std::string> repeatable;  // subset of `valued` that may appear many times
};

class Args {
public:
    static Result<Args> parse(std::span<const std::string> argv, const ArgSpec& spec);

    const std::vector<std::string>& positional() const { return m_positional; }
    bool has(std::string_view key) const;
    std::optional<std::string> value(std::string_view key) const;
    std::vector<std::string> values(std::string_view key) const;

private:
    std::vector<std::string> m_positional;
    std::map<std::string, std::vector<std::string>, std::less<>> m_options;
};

// Prints "error: <message>" on stderr and returns the exit status.
int reportError(const Error& error, int status);
// Parses a non-negative integer; nullopt on anything else.
std::optional<long long> parseInteger(std::string_view text);

}  // namespace qs::cli
