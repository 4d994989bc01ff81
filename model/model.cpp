#include "model/model.h"

namespace qs::model {

std::string_view activationName(Activation a) {
    switch (a) {
        case Activation::None:
            return "NONE";
        case Activation::Relu:
            return "RELU";
        case Activation::ReluN1To1:
            return "RELU_N1_TO_1";
        case Activation::Relu6:
            return "RELU6";
        case Activation::Tanh:
            return "TANH";
        case Activation::SignBit:
            return "SIGN_BIT";
    }
    return "UNKNOWN";
}

std::string_view paddingName(Padding p) {
    switch (p) {
        case Padding::Same:
            return "SAME";
        case Padding::Valid:
            return "VALID";
    }
    return "UNKNOWN";
}

int64_t Tensor::numElements() const {
    // The loader rejects shapes whose product overflows int64, so this cannot overflow for a
    // loaded model.
    int64_t n = 1;
    for (int32_t d : shape) n *= d;
    return n;
}

int64_t Tensor::byteSize() const {
    const int64_t n = numElements();
    const int bits = dtypeBits(dtype);
    if (bits == 4) return (n + 1) / 2;  // INT4 packs two values per byte
    return n * (bits / 8);
}

std::string Operator::name() const {
    if (isCustom()) return custom_code.empty() ? std::string("CUSTOM") : custom_code;
    const std::string_view n = builtinOpName(opcode);
    if (!n.empty()) return std::string(n);
    return "BUILTIN_" + std::to_string(static_cast<int32_t>(opcode));
}

std::vector<OpId> Subgraph::producers() const {
    std::vector<OpId> result(tensors.size());
    for (size_t i = 0; i < operators.size(); ++i) {
        for (TensorId out : operators[i].outputs) {
            if (out.valid() && static_cast<size_t>(out.value) < result.size())
                result[static_cast<size_t>(out.value)] = OpId(static_cast<int32_t>(i));
        }
    }
    return result;
}

}  // namespace qs::model
