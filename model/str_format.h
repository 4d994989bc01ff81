// A stand-in for std::format's "{}" substitution: g++ 12's libstdc++ has no <format>.
// Only plain "{}" placeholders; integers, floats (shortest round-trip form) and strings.
#pragma once

#include <charconv>
#include <string>
#include <string_view>
#include <type_traits>

namespace qs {

namespace detail {

inline void appendArg(std::string& out, std::string_view v) {
    out += v;
}
inline void appendArg(std::string& out, const std::string& v) {
    out += v;
}
inline void appendArg(std::string& out, const char* v) {
    out += v;
}
inline void appendArg(std::string& out, char v) {
    out += v;
}
inline void appendArg(std::string& out, bool v) {
    out += v ? "true" : "false";
}
template <class T>
requires(std::is_integral_v<T> && !std::is_same_v<T, bool> &&
         !std::is_same_v<T, char>) void appendArg(std::string& out, T v) {
    out += std::to_string(
        static_cast<std::conditional_t<std::is_signed_v<T>, long long, unsigned long long>>(v));
}
template <class T>
requires std::is_floating_point_v<T>
void appendArg(std::string& out, T v) {
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof(buf), v);
    out.append(buf, r.ptr);
}

}  // namespace detail

// strFormat("tensor {} \"{}\"", 3, name): each "{}" takes the next argument in turn.
template <class... Args>
std::string strFormat(std::string_view pattern, const Args&... args) {
    std::string pieces[sizeof...(Args) + 1];
    size_t n = 0;
    ((detail::appendArg(pieces[n++], args)), ...);
    std::string out;
    out.reserve(pattern.size() + 16 * sizeof...(Args));
    size_t next = 0;
    for (size_t i = 0; i < pattern.size(); ++i) {
        if (pattern[i] == '{' && i + 1 < pattern.size() && pattern[i + 1] == '}') {
            if (next < sizeof...(Args)) out += pieces[next++];
            ++i;
        } else {
            out += pattern[i];
        }
    }
    return out;
}

}  // namespace qs
