// quantscope-cli: the command-line entry point. Links model/ and engine/, never Qt.
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "app/cli/args.h"
#include "app/cli/commands.h"

namespace {

// One row per subcommand; a new subcommand adds its row here and its cmd_*.cpp file.
constexpr qs::cli::Command kCommands[] = {
    {"inspect", "inspect MODEL [--json]", qs::cli::cmdInspect},
    {"run", "run MODEL [--input NAME|INDEX=FILE.npy|IMAGE]... [--preprocess SPEC] [--seed N] [--profile reference|single-rounding|xnnpack|builtin] [--plain] [--engine int|float] --dump DIR [--benchmark N]", qs::cli::cmdRun},
    {"report", "report MODEL [--float FLOAT.tflite] [--input NAME|INDEX=FILE.npy|IMAGE]... | [--inputs DIR] [--preprocess SPEC] [--seed N] [--mode accumulated|local] [--profile reference|single-rounding|xnnpack|builtin] [--metric NAME] --csv OUT [--per-channel-csv OUT] [--json OUT] [--model-explorer OUT]", qs::cli::cmdReport},
    {"rules", "rules [--markdown]", qs::cli::cmdRules},
    {"trace", "trace MODEL --tensor NAME|INDEX --element i,j,k,l [--input NAME|INDEX=FILE.npy]... [--seed N] [--profile reference|single-rounding|xnnpack|builtin|all] [--json]", qs::cli::cmdTrace},
    {"resize", "resize IMAGE --size WxH --method opencv-area|opencv-linear|opencv-nearest|opencv-cubic|opencv-lanczos4|opencv-linear-exact|tf-bilinear|tf-bilinear-half-pixel|tf-bilinear-align-corners|tf-nearest|tf-nearest-half-pixel|tf-nearest-align-corners|pil-bilinear|pil-bicubic|pil-lanczos|pil-box|pil-hamming|pil-nearest [--crop stretch|center|pad] [--gray] --out OUT.png|OUT.npy", qs::cli::cmdResize},
};

void printUsage(std::FILE* out) {
    std::fprintf(out, "usage: quantscope-cli COMMAND [ARGS]\n\ncommands:\n");
    for (const auto& c : kCommands) std::fprintf(out, "  %s\n", c.synopsis);
    std::fprintf(out,
                 "\n--preprocess SPEC (run, report; for IMAGE inputs: .png .jpg .jpeg .bmp):\n"
                 "  method=M,size=WxH,crop=stretch|center|pad,pad=0..255,order=rgb|bgr,\n"
                 "  norm=auto|raw|0to1|-1to1|imagenet|input-quant|metadata|custom,mean=R:G:B,"
                 "std=R:G:B,div=D\n"
                 "  every key optional; M as for resize; size and norm default to the model's TFLite\n"
                 "  Metadata, else the input shape and input-quant (quantized) or 0to1 (float);\n"
                 "  value = (pixel / div - mean) / std in float32, then quantized with the input's\n"
                 "  scale and zero point (round half away from zero, clamp)\n");
    std::fprintf(out,
                 "\nexit status: 0 success, 1 usage error, 2 bad input (one 'error: ...' line on "
                 "stderr)\n");
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        printUsage(stderr);
        return qs::cli::kExitUsage;
    }
    const std::string name = argv[1];
    if (name == "--help" || name == "-h" || name == "help") {
        printUsage(stdout);
        return qs::cli::kExitOk;
    }
    if (name == "--version") {
        std::printf("quantscope-cli 0.1.0\n");
        return qs::cli::kExitOk;
    }
    const std::vector<std::string> args(argv + 2, argv + argc);
    for (const auto& c : kCommands) {
        if (name != c.name) continue;
        // Library code reports errors as values; this guard only turns an unexpected
        // std::bad_alloc or similar into the documented one-line error instead of an abort.
        try {
            return c.run(args);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "error: %s\n", e.what());
            return qs::cli::kExitBadInput;
        }
    }
    std::fprintf(stderr, "error: unknown command '%s' (see quantscope-cli --help)\n", name.c_str());
    return qs::cli::kExitUsage;
}
