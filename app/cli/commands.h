// quantscope-cli subcommands. Each takes the arguments after its name and returns the exit
// status (args.h: 0 ok, 1 usage error, 2 bad input).
#pragma once

#include <span>
#include <string>

namespace qs::cli {

struct Command {
    const char* name;
    const char* synopsis;  // one usage line, shown by `quantscope-cli --help`
    int (*run)(std::span<const std::string> args);
};

int cmdInspect(std::span<const std::string> args);
int cmdRun(std::span<const std::string> args);
int cmdReport(std::span<const std::string> args);
int cmdRules(std::span<const std::string> args);
int cmdTrace(std::span<const std::string> args);
int cmdResize(std::span<const std::string> args);

}  // namespace qs::cli
