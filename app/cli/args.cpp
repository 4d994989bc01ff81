#include "app/cli/args.h"

#include <charconv>
#include <cstdio>

namespace qs::cli {

Result<Args> Args::parse(std::span<const std::string> argv, const ArgSpec& spec) {
    Args args;
    for (size_t i = 0; i < argv.size(); ++i) {
        const std::string& a = argv[i];
        if (a.size() < 2 || a.rfind("--", 0) != 0) {
            args.m_positional.push_back(a);
            continue;
        }
        std::string key = a;
        std::optional<std::string> inlineValue;
        if (const auto eq = a.find('='); eq != std::string::npos) {
            key = a.substr(0, eq);
            inlineValue = a.substr(eq + 1);
        }
        if (spec.flags.contains(key)) {
            if (inlineValue) return fail("option " + key + " takes no value");
            args.m_options[key].push_back({});
            continue;
        }
        if (!spec.valued.contains(key)) return fail("unknown option " + key);
        std::string value;
        if (inlineValue) {
            value = *inlineValue;
        } else if (i + 1 < argv.size()) {
            value = argv[++i];
        } else {
            return fail("option " + key + " needs a value");
        }
        auto& slot = args.m_options[key];
        if (!slot.empty() && !spec.repeatable.contains(key))
            return fail("option " + key + " given more than once");
        slot.push_back(std::move(value));
    }
    return args;
}

bool Args::has(std::string_view key) const { return m_options.find(key) != m_options.end(); }

std::optional<std::string> Args::value(std::string_view key) const {
    const auto it = m_options.find(key);
    if (it == m_options.end() || it->second.empty()) return std::nullopt;
    return it->second.front();
}

std::vector<std::string> Args::values(std::string_view key) const {
    const auto it = m_options.find(key);
    return it == m_options.end() ? std::vector<std::string>{} : it->second;
}

int reportError(const Error& error, int status) {
    std::fprintf(stderr, "error: %s\n", error.message.c_str());
    return status;
}

std::optional<long long> parseInteger(std::string_view text) {
    long long v = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || ptr != text.data() + text.size() || v < 0) return std::nullopt;
    return v;
}

}  // namespace qs::cli
