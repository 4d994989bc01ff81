// Result and error types shared by every Quantscope library. No exception crosses a library
// boundary: fallible calls return Result<T>.
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <utility>

namespace qs {

struct Error {
    std::string message;       // one line, ready for `error: <message>`
    int32_t op_index = -1;     // the operator it concerns, or -1
    int32_t tensor_index = -1; // the tensor it concerns, or -1
    std::string tensor_name;   // that tensor's name, when known
};

template <class T>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> fail(std::string message) {
    Error error;
    error.message = std::move(message);
    return std::unexpected(std::move(error));
}

}  // namespace qs
