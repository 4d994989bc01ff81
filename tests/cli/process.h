// Runs a command line and captures its exit status, stdout and stderr (for CLI tests).
#pragma once

#include <string>
#include <vector>

namespace qs::test {

struct ProcessResult {
    int status = -1;  // exit status, or 128+signal when killed by a signal
    std::string out;
    std::string err;
};

ProcessResult runProcess(const std::vector<std::string>& argv, double timeoutSeconds = 120);

}  // namespace qs::test
