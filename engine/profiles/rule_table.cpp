#include "engine/profiles/rule_table.h"

#include <array>

namespace qs::engine {

namespace {

using model::BuiltinOp;
using P = RoundingProfile;
using R = RequantRule;

constexpr std::string_view kTflmConv =
    "tensorflow/tflite-micro:tensorflow/lite/kernels/internal/reference/integer_ops/conv.h";
constexpr std::string_view kTflmDw =
    "tensorflow/tflite-micro:tensorflow/lite/kernels/internal/reference/integer_ops/"
    "depthwise_conv.h";
constexpr std::string_view kTflmFc =
    "tensorflow/tflite-micro:tensorflow/lite/kernels/internal/reference/integer_ops/"
    "fully_connected.h";
constexpr std::string_view kTflmAdd =
    "tensorflow/tflite-micro:tensorflow/lite/kernels/internal/reference/integer_ops/add.h";
constexpr std::string_view kTflmPool =
    "tensorflow/tflite-micro:tensorflow/lite/kernels/internal/reference/integer_ops/pooling.h";
constexpr std::string_view kTflmSoftmax =
    "tensorflow/tflite-micro:tensorflow/lite/kernels/internal/reference/softmax.h";
constexpr std::string_view kTflmMean =
    "tensorflow/tflite-micro:tensorflow/lite/kernels/internal/reference/reduce.h";
constexpr std::string_view kTflmQuant =
    "tensorflow/tflite-micro:tensorflow/lite/kernels/internal/reference/quantize.h + requantize.h";
constexpr std::string_view kRuy =
    "google/ruy:ruy/kernel_x86.h (+ tensorflow/lite/kernels/cpu_backend_gemm_ruy.h)";
constexpr std::string_view kTfDw =
    "tensorflow/tensorflow:tensorflow/lite/kernels/internal/optimized/integer_ops/depthwise_conv.h";
constexpr std::string_view kTfAdd =
    "tensorflow/tensorflow:tensorflow/lite/kernels/internal/optimized/integer_ops/add.h";
constexpr std::string_view kTfSoftmax =
    "tensorflow/tensorflow:tensorflow/lite/kernels/internal/optimized/optimized_ops.h (Softmax "
    "LUT)";
constexpr std::string_view kTfPool =
    "tensorflow/tensorflow:tensorflow/lite/kernels/internal/optimized/integer_ops/pooling.h";
constexpr std::string_view kTfMean = "tensorflow/tensorflow:tensorflow/lite/kernels/reduce.cc";
constexpr std::string_view kXnn =
    "google/XNNPACK via tensorflow/lite/delegates/xnnpack/xnnpack_delegate.cc";
constexpr std::string_view kTflmTConv =
    "tensorflow/tflite-micro:tensorflow/lite/kernels/internal/reference/integer_ops/"
    "transpose_conv.h";
constexpr std::string_view kTfTConv = "tensorflow/tensorflow:tensorflow/lite/kernels/transpose_conv.cc";
constexpr std::string_view kTflmBmm =
    "tensorflow/tflite-micro:tensorflow/lite/kernels/internal/reference/batch_matmul.h";
constexpr std::string_view kTfBmm = "tensorflow/tensorflow:tensorflow/lite/kernels/batch_matmul.cc";
constexpr std::string_view kTfBmmHybrid =
    "google-ai-edge/LiteRT:tflite/kernels/batch_matmul.cc EvalHybrid + "
    "internal/reference/batch_matmul.h";
constexpr std::string_view kTfHybrid =
    "tensorflow/tensorflow:tensorflow/lite/kernels/{fully_connected,conv,depthwise_conv}.cc "
    "EvalHybrid* + internal/reference/portable_tensor_utils.cc";
constexpr std::string_view kXnnQd8 =
    "google/XNNPACK:src/operator-run.c compute_f32_qd8_convert + src/qd8-f32-qc8w-gemm";
constexpr std::string_view kXnnConv =
    "google/XNNPACK:src/operators/convolution-nhwc.c + src/qs8-gemm, src/qu8-gemm (fp32 variants)";
constexpr std::string_view kXnnDw =
    "google/XNNPACK:src/operators/convolution-nhwc.c + src/qs8-dwconv, src/qu8-dwconv (fp32)";
constexpr std::string_view kXnnFc =
    "google/XNNPACK:src/operators/fully-connected-nc.c + src/qs8-gemm, src/qu8-gemm (fp32)";
constexpr std::string_view kXnnMean =
    "google/XNNPACK:src/operators/reduce-nd.c (update_params_mean_qs8) + src/qs8-rdsum";
constexpr std::string_view kXnnAdd =
    "google/XNNPACK:src/microparams-init.c xnn_init_qs8_add_minmax_scalar_params + src/qs8-vadd";

// clang-format off
constexpr RuleEntry kRules[] = {
    // reference: TFLM's portable kernels, default (double-rounding) build.
    {P::Reference, BuiltinOp::CONV_2D, "*", R::DoubleRounding, kTflmConv, "int16x8: int64 accumulator, 16-bit reduced multiplier (common.cc)"},
    {P::Reference, BuiltinOp::DEPTHWISE_CONV_2D, "*", R::DoubleRounding, kTflmDw, ""},
    {P::Reference, BuiltinOp::FULLY_CONNECTED, "*", R::DoubleRounding, kTflmFc, ""},
    {P::Reference, BuiltinOp::ADD, "*", R::DoubleRounding, kTflmAdd, "inputs << 20 (int16: << 15), per-input multipliers, output multiplier"},
    {P::Reference, BuiltinOp::AVERAGE_POOL_2D, "*", R::DoubleRounding, kTflmPool, "sum / count rounded half away from zero; no multiplier"},
    {P::Reference, BuiltinOp::SOFTMAX, "*", R::DoubleRounding, kTflmSoftmax, "gemmlowp fixed-point exp and reciprocal"},
    {P::Reference, BuiltinOp::MEAN, "*", R::DoubleRounding, kTflmMean, "4-D over H,W: sum(x - zp_in) * ((m << k) / n) requantized once (integer_ops/mean.h); else float mean"},
    {P::Reference, BuiltinOp::QUANTIZE, "*", R::DoubleRounding, kTflmQuant, "float input: round(x / scale) + zp; integer input: requantize"},
    // single-rounding: the same kernels built with TFLITE_SINGLE_ROUNDING=1.
    {P::SingleRounding, BuiltinOp::CONV_2D, "*", R::SingleRounding, kTflmConv, ""},
    {P::SingleRounding, BuiltinOp::DEPTHWISE_CONV_2D, "*", R::SingleRounding, kTflmDw, ""},
    {P::SingleRounding, BuiltinOp::FULLY_CONNECTED, "*", R::SingleRounding, kTflmFc, ""},
    {P::SingleRounding, BuiltinOp::ADD, "*", R::SingleRounding, kTflmAdd, ""},
    {P::SingleRounding, BuiltinOp::SOFTMAX, "*", R::SingleRounding, kTflmSoftmax, "input-beta multiplier single-rounded; exp/reciprocal unchanged"},
    {P::SingleRounding, BuiltinOp::MEAN, "*", R::SingleRounding, kTflmMean, "as reference, single-rounded"},
    // builtin: TFLite's optimized CPU kernels, XNNPACK off; 8-bit GEMMs via ruy.
    {P::Builtin, BuiltinOp::CONV_2D, "int8", R::RuyX86, kRuy, "im2col + ruy GEMM"},
    {P::Builtin, BuiltinOp::CONV_2D, "uint8", R::RuyX86, kRuy, "im2col + ruy GEMM"},
    {P::Builtin, BuiltinOp::CONV_2D, "int16", R::DoubleRounding, kTflmConv, "int16x8 runs the reference kernel"},
    {P::Builtin, BuiltinOp::FULLY_CONNECTED, "int8", R::RuyX86, kRuy, "ruy GEMM"},
    {P::Builtin, BuiltinOp::FULLY_CONNECTED, "uint8", R::RuyX86, kRuy, "ruy GEMM"},
    {P::Builtin, BuiltinOp::FULLY_CONNECTED, "int16", R::DoubleRounding, kTflmFc, "int16x8 runs the reference kernel"},
    {P::Builtin, BuiltinOp::BATCH_MATMUL, "int8", R::RuyX86, kRuy, "ruy GEMM"},
    {P::Builtin, BuiltinOp::DEPTHWISE_CONV_2D, "*", R::DoubleRounding, kTfDw, "TFLite's own depthwise loops"},
    {P::Builtin, BuiltinOp::ADD, "*", R::DoubleRounding, kTfAdd, ""},
    {P::Builtin, BuiltinOp::AVERAGE_POOL_2D, "*", R::DoubleRounding, kTfPool, "sum / count rounded half away from zero"},
    {P::Builtin, BuiltinOp::SOFTMAX, "*", R::DoubleRounding, kTfSoftmax, "float exp LUT of 256 entries, float sum, round(p / out_scale) + zp"},
    {P::Builtin, BuiltinOp::MEAN, "*", R::DoubleRounding, kTfMean, "int8/uint8 4-D over H,W: integer sum * multiplier; else float mean"},
    // xnnpack: LiteRT + XNNPACK. Conv-like ops requantize in fp32 (round to nearest even).
    {P::Xnnpack, BuiltinOp::CONV_2D, "int8", R::Fp32, kXnnConv, "qs8/qc8w GEMM, fp32 requantization (float scale, ties to even)"},
    {P::Xnnpack, BuiltinOp::CONV_2D, "uint8", R::Fp32, kXnnConv, "qu8 GEMM, fp32 requantization"},
    {P::Xnnpack, BuiltinOp::DEPTHWISE_CONV_2D, "int8", R::Fp32, kXnnDw, "qs8/qc8w dwconv, fp32 requantization"},
    {P::Xnnpack, BuiltinOp::DEPTHWISE_CONV_2D, "uint8", R::Fp32, kXnnDw, "qu8 dwconv, fp32 requantization"},
    {P::Xnnpack, BuiltinOp::FULLY_CONNECTED, "int8", R::Fp32, kXnnFc, "qs8/qc8w GEMM, fp32 requantization"},
    {P::Xnnpack, BuiltinOp::FULLY_CONNECTED, "uint8", R::Fp32, kXnnFc, "qu8 GEMM, fp32 requantization"},
    {P::Xnnpack, BuiltinOp::CONV_2D, "int16", R::DoubleRounding, kTflmConv, "XNNPACK takes no int16x8 conv: TFLite builtin reference kernel"},
    {P::Xnnpack, BuiltinOp::DEPTHWISE_CONV_2D, "*", R::DoubleRounding, kTflmDw, "int16x8 is not delegated: TFLite builtin (int64 accumulator, rule unused)"},
    {P::Xnnpack, BuiltinOp::FULLY_CONNECTED, "*", R::DoubleRounding, kTflmFc, "int16x8 is not delegated: TFLite builtin (int64 accumulator, rule unused)"},
    {P::Xnnpack, BuiltinOp::ADD, "int8", R::XnnpackAdd, kXnnAdd, "21-bit multipliers per input from float scale ratios, one shift rounded half up; scale ratio outside [2^-10, 2^8): TFLite builtin ADD"},
    {P::Xnnpack, BuiltinOp::ADD, "uint8", R::XnnpackAdd, kXnnAdd, "as int8 (qu8-vadd)"},
    {P::Xnnpack, BuiltinOp::MEAN, "int8", R::Fp32, kXnnMean, "int32 sum - n*zp_in, float(s_in/s_out) * (1/n) in float, ties to even"},
    {P::Xnnpack, BuiltinOp::MEAN, "uint8", R::Fp32, kXnnMean, "as int8 (qu8)"},
    {P::Xnnpack, BuiltinOp::AVERAGE_POOL_2D, "*", R::DoubleRounding, kTfPool, "the delegate takes float32 average pooling only (VisitAveragePool2DNode: CheckTensorFloat32Type); quantized runs TFLite builtin: sum / count rounded half away from zero"},
    {P::Xnnpack, BuiltinOp::ADD, "int16", R::DoubleRounding, kTflmAdd, "XNNPACK takes no int16 ADD: TFLite builtin (double rounding)"},
    {P::Xnnpack, BuiltinOp::SOFTMAX, "*", R::DoubleRounding, kTfSoftmax, "XNNPACK takes no quantized softmax: TFLite builtin LUT"},
    {P::Reference, BuiltinOp::TRANSPOSE_CONV, "*", R::DoubleRounding, kTflmTConv, "scatter into an int32 (int16x8: int64) scratch, then requantize"},
    {P::SingleRounding, BuiltinOp::TRANSPOSE_CONV, "*", R::SingleRounding, kTflmTConv, "int16x8: int64 MultiplyByQuantizedMultiplier (same in both builds)"},
    {P::Builtin, BuiltinOp::TRANSPOSE_CONV, "*", R::DoubleRounding, kTfTConv, "int16x8 runs the reference kernel (golden: seanet_transpose_conv0); int8 TransposeConvV2 requantizes with MultiplyByQuantizedMultiplier (no golden data)"},
    {P::Xnnpack, BuiltinOp::TRANSPOSE_CONV, "int16", R::DoubleRounding, kTfTConv, "XNNPACK takes no int16x8: TFLite builtin reference kernel"},
    {P::Xnnpack, BuiltinOp::TRANSPOSE_CONV, "*", R::SingleRounding, kXnn, "KNOWN GAP: XNNPACK deconvolution modelled as single rounding (no golden data)"},
    {P::Reference, BuiltinOp::BATCH_MATMUL, "*", R::DoubleRounding, kTflmBmm, "one per-tensor multiplier; int16: int64 accumulator"},
    {P::SingleRounding, BuiltinOp::BATCH_MATMUL, "*", R::SingleRounding, kTflmBmm, "one per-tensor multiplier; int16: int64 accumulator"},
    {P::Builtin, BuiltinOp::BATCH_MATMUL, "int16", R::DoubleRounding, kTfBmm, "reference_ops::BatchMatMul<int16_t, int64_t>; a per-channel rhs has legacy scale 0 (multiplier 0)"},
    {P::Xnnpack, BuiltinOp::BATCH_MATMUL, "int16", R::DoubleRounding, kTfBmm, "XNNPACK takes no int16: TFLite builtin (golden: static_w8_a16_quantized_q_einsum)"},
    {P::Xnnpack, BuiltinOp::BATCH_MATMUL, "int8", R::RuyX86, kRuy, "KNOWN GAP: assumed to fall back to TFLite builtin (ruy); no golden data"},
    {P::Builtin, BuiltinOp::FULLY_CONNECTED, "float32", R::DoubleRounding, kTfHybrid, "int8 weights (hybrid): input quantized per batch (symmetric, round half away), int32 dot, bias + acc * s_in * s_w"},
    {P::Builtin, BuiltinOp::CONV_2D, "float32", R::DoubleRounding, kTfHybrid, "int8 weights (hybrid): per-channel -> asymmetric per-batch input, per-tensor -> symmetric"},
    {P::Builtin, BuiltinOp::DEPTHWISE_CONV_2D, "float32", R::DoubleRounding, kTfHybrid, "int8 weights (hybrid): asymmetric per-batch input quantization"},
    {P::Xnnpack, BuiltinOp::FULLY_CONNECTED, "float32", R::Fp32, kXnnQd8, "int8 weights (hybrid): qd8 per-row input quantization (float params, ties to even)"},
    {P::Xnnpack, BuiltinOp::CONV_2D, "float32", R::Fp32, kXnnQd8, "int8 weights (hybrid): qd8 per pixel for 1x1 stride-1 convs; KNOWN GAP: other geometries use the builtin arithmetic"},
    // Stateful and sequence kernels (svdf.cpp): LiteRT rejects variable tensors, so xnnpack = builtin.
    {P::Reference, BuiltinOp::SVDF, "*", R::DoubleRounding, "tensorflow/tflite-micro:tensorflow/lite/micro/kernels/svdf_common.cc", "int8: feature dot -> state (scale_1, + state zp, clamp), time dot, bias + rank sum -> output (scale_2); scales float products; float: bias first"},
    {P::SingleRounding, BuiltinOp::SVDF, "*", R::SingleRounding, "tensorflow/tflite-micro:tensorflow/lite/micro/kernels/svdf_common.cc", "as reference, single-rounded"},
    {P::Builtin, BuiltinOp::SVDF, "*", R::DoubleRounding, "tensorflow/tensorflow:tensorflow/lite/kernels/svdf.cc + internal/reference/svdf.h", "int8: int16 state with zero point 0 only; float: rank sum, then bias"},
    {P::Xnnpack, BuiltinOp::SVDF, "*", R::DoubleRounding, "tensorflow/tensorflow:tensorflow/lite/kernels/svdf.cc", "not delegated (and LiteRT rejects variable tensors): TFLite builtin"},
    // UNIDIRECTIONAL_SEQUENCE_LSTM (lstm.cpp): float and int8x8_16.
    {P::Reference, BuiltinOp::UNIDIRECTIONAL_SEQUENCE_LSTM, "float32", R::DoubleRounding, "tensorflow/tensorflow:tensorflow/lite/kernels/lstm_eval.cc", "float: TFLite's LstmStepFloat order (bias, then each matrix's dot); TFLM's float summation order not reproduced; hybrid LSTM not implemented"},
    {P::SingleRounding, BuiltinOp::UNIDIRECTIONAL_SEQUENCE_LSTM, "float32", R::SingleRounding, "tensorflow/tensorflow:tensorflow/lite/kernels/lstm_eval.cc", "as reference"},
    {P::Builtin, BuiltinOp::UNIDIRECTIONAL_SEQUENCE_LSTM, "float32", R::DoubleRounding, "tensorflow/tensorflow:tensorflow/lite/kernels/unidirectional_sequence_lstm.cc + lstm_eval.cc", "float: gate = bias + W_x x + W_h h (+ peephole), layer norm eps 1e-8, cell/proj clip"},
    {P::Xnnpack, BuiltinOp::UNIDIRECTIONAL_SEQUENCE_LSTM, "float32", R::DoubleRounding, "tensorflow/tensorflow:tensorflow/lite/kernels/lstm_eval.cc", "not delegated (variable tensors): TFLite builtin"},
    {P::Reference, BuiltinOp::UNIDIRECTIONAL_SEQUENCE_LSTM, "int8", R::DoubleRounding, "tensorflow/tensorflow:tensorflow/lite/kernels/lstm_eval.cc EvalInteger8x8_16 + internal/reference/portable_tensor_utils.cc", "int8x8_16 (5 intermediates): per matmul MBQM to Q3.12 int16 with zp-folded biases, saturating accumulate; gemmlowp int16 sigmoid/tanh; cell update by rounding shifts; hidden MBQM minus hidden zp (upstream's sign). layer norm: ApplyLayerNorm (integer mean/variance x1024, GetInvSqrtQuantizedMultiplierExp, coefficient, gate bias, MBQM(shift + 12)) into intermediates 0-3's scales; peephole: MBQM(w * c) over n_batch * n_output cells (upstream's v_size); projection: int8 matmul + output_state zp, bias + hidden_zp * row sums, int8 clip; verified on TFLite lstm_test.cc IntegerLstmOpTest goldens. TFLM's pre-2023 lstm_eval.cc is the same code; TFLM's newer LUT-based integer LSTM (no peephole/projection) is not reproduced"},
    {P::SingleRounding, BuiltinOp::UNIDIRECTIONAL_SEQUENCE_LSTM, "int8", R::SingleRounding, "tensorflow/tensorflow:tensorflow/lite/kernels/lstm_eval.cc EvalInteger8x8_16", "as reference, MultiplyByQuantizedMultiplier single-rounded"},
    {P::Builtin, BuiltinOp::UNIDIRECTIONAL_SEQUENCE_LSTM, "int8", R::DoubleRounding, "tensorflow/tensorflow:tensorflow/lite/kernels/unidirectional_sequence_lstm.cc + lstm_eval.cc", "x86: sse_tensor_utils.h forwards every int8x8_16 helper (gate and projection matmuls, ApplyLayerNorm, the peephole product, CwiseMul, sigmoid/tanh) to portable_tensor_utils.cc, so as reference"},
    {P::Xnnpack, BuiltinOp::UNIDIRECTIONAL_SEQUENCE_LSTM, "int8", R::DoubleRounding, "tensorflow/tensorflow:tensorflow/lite/kernels/lstm_eval.cc", "not delegated (variable tensors): TFLite builtin"},
    // Hybrid BATCH_MATMUL (hybrid_batch_matmul.cpp): float lhs, constant int8 rhs.
    {P::Reference, BuiltinOp::BATCH_MATMUL, "float32", R::DoubleRounding, kTfBmmHybrid, "int8 rhs (hybrid): TFLM has no hybrid kernel; TFLite builtin arithmetic"},
    {P::SingleRounding, BuiltinOp::BATCH_MATMUL, "float32", R::SingleRounding, kTfBmmHybrid, "int8 rhs (hybrid): TFLM has no hybrid kernel; TFLite builtin arithmetic"},
    {P::Builtin, BuiltinOp::BATCH_MATMUL, "float32", R::DoubleRounding, kTfBmmHybrid, "int8 rhs (hybrid): each lhs row quantized (symmetric; asymmetric option), int32 dot, scale * acc; row scales offset by (b0+b1+b2) rows as upstream"},
    {P::Xnnpack, BuiltinOp::BATCH_MATMUL, "float32", R::DoubleRounding, kTfBmmHybrid, "KNOWN GAP: int8 rhs (hybrid) assumed to run on TFLite builtin; no golden data"},
    // Element-wise and activation kernels (elementwise_binary.cpp, activations.cpp).
    {P::Reference, BuiltinOp::SUB, "*", R::DoubleRounding, "tensorflow/tflite-micro:tensorflow/lite/micro/kernels/sub_common.cc + reference/sub.h", "inputs << 20 (int16: << 15), ratio multipliers computed in float, s1 - MBQM(x2, m2)"},
    {P::Reference, BuiltinOp::MUL, "*", R::DoubleRounding, "tensorflow/tflite-micro:tensorflow/lite/kernels/internal/reference/integer_ops/mul.h", "(x1 - zp1) * (x2 - zp2) requantized once; s1 * s2 / s_out in double"},
    {P::Reference, BuiltinOp::LOGISTIC, "int8", R::DoubleRounding, "tensorflow/tflite-micro:tensorflow/lite/kernels/internal/reference/integer_ops/logistic.h", "gemmlowp fixed-point logistic on Q4.27 (frexp multiplier, input radius); output RoundingDivideByPOT(., 23) - 128"},
    {P::Reference, BuiltinOp::TANH, "int8", R::DoubleRounding, "tensorflow/tflite-micro:tensorflow/lite/kernels/internal/reference/integer_ops/tanh.h", "gemmlowp fixed-point tanh on Q4.27; output RoundingDivideByPOT(., 24)"},
    {P::SingleRounding, BuiltinOp::SUB, "*", R::SingleRounding, "tensorflow/tflite-micro:tensorflow/lite/micro/kernels/sub_common.cc", "as reference, single-rounded"},
    {P::SingleRounding, BuiltinOp::MUL, "*", R::SingleRounding, "tensorflow/tflite-micro:tensorflow/lite/kernels/internal/reference/integer_ops/mul.h", "as reference, single-rounded"},
    {P::SingleRounding, BuiltinOp::LOGISTIC, "int8", R::SingleRounding, "tensorflow/tflite-micro:tensorflow/lite/kernels/internal/reference/integer_ops/logistic.h", "input multiply single-rounded; gemmlowp fixed point unchanged"},
    {P::SingleRounding, BuiltinOp::TANH, "int8", R::SingleRounding, "tensorflow/tflite-micro:tensorflow/lite/kernels/internal/reference/integer_ops/tanh.h", "input multiply single-rounded; gemmlowp fixed point unchanged"},
    {P::Builtin, BuiltinOp::SUB, "*", R::DoubleRounding, "tensorflow/tensorflow:tensorflow/lite/kernels/sub.cc", "multipliers in double, input2 multiplier negated into the ADD kernel (s1 + MBQM(x2, -m2)); int16 power-of-two scales: Sub16 rounding shift"},
    {P::Builtin, BuiltinOp::MUL, "*", R::DoubleRounding, "tensorflow/tensorflow:tensorflow/lite/kernels/mul.cc", "same arithmetic as the reference kernel"},
    {P::Builtin, BuiltinOp::LOGISTIC, "*", R::DoubleRounding, "tensorflow/tensorflow:tensorflow/lite/kernels/activations.cc + internal/common.h LUTPopulate", "8-bit: 256-entry table of the float sigmoid, round half away from zero; no requantization"},
    {P::Builtin, BuiltinOp::TANH, "*", R::DoubleRounding, "tensorflow/tensorflow:tensorflow/lite/kernels/activations.cc + internal/common.h LUTPopulate", "8-bit: 256-entry table of the float tanh"},
    {P::Xnnpack, BuiltinOp::MUL, "int8", R::SingleRounding, "google/XNNPACK:src/operators/binary-elementwise-nd.c + qs8-vmul-minmax-fp32", "fp32 requantization: float(acc) * float(s1*s2/s_out), round to nearest even (not a Q31 rule); matches litert on single_mul"},
    {P::Xnnpack, BuiltinOp::MUL, "uint8", R::SingleRounding, "google/XNNPACK:src/operators/binary-elementwise-nd.c + qu8-vmul-minmax-fp32", "fp32 requantization as for int8"},
    {P::Xnnpack, BuiltinOp::SUB, "*", R::SingleRounding, kXnn, "KNOWN GAP: modelled as TFLM single rounding; XNNPACK's qs8 vsub parameters are not reproduced"},
    {P::Xnnpack, BuiltinOp::LOGISTIC, "*", R::DoubleRounding, kXnn, "8-bit: TFLite's float table (XNNPACK's own sigmoid table not verified against golden data)"},
    {P::Xnnpack, BuiltinOp::TANH, "*", R::DoubleRounding, kXnn, "8-bit: TFLite's float table (unverified against XNNPACK)"},
    // LOG_SOFTMAX, L2_NORMALIZATION, RESIZE_* (normalization.cpp, resize.cpp).
    {P::Reference, BuiltinOp::LOG_SOFTMAX, "*", R::DoubleRounding, "tensorflow/tflite-micro:tensorflow/lite/kernels/internal/reference/log_softmax.h", "8-bit: Q5.26 diffs, gemmlowp exp, Q12 sum, fixed-point log, RoundingDivideByPOT(., 22) + 127 (uint8: 255)"},
    {P::SingleRounding, BuiltinOp::LOG_SOFTMAX, "*", R::SingleRounding, "tensorflow/tflite-micro:tensorflow/lite/kernels/internal/reference/log_softmax.h", "as reference; both multiplies single-rounded, multiplier capped below 2^30"},
    {P::Builtin, BuiltinOp::LOG_SOFTMAX, "*", R::DoubleRounding, "tensorflow/tensorflow:tensorflow/lite/kernels/activations.cc LogSoftmaxEval<kGenericOptimized> + optimized_ops.h LogSoftmax", "8-bit: float exp table, log of float sum, rint (ties to even) + zp; no requantization"},
    {P::Xnnpack, BuiltinOp::LOG_SOFTMAX, "*", R::DoubleRounding, "tensorflow/tensorflow:tensorflow/lite/kernels/activations.cc", "XNNPACK takes no LOG_SOFTMAX: TFLite builtin table path"},
    {P::Reference, BuiltinOp::L2_NORMALIZATION, "*", R::DoubleRounding, "tensorflow/tflite-micro:tensorflow/lite/kernels/internal/reference/integer_ops/l2normalization.h", "int8: GetInvSqrtQuantizedMultiplierExp, MBQM(x - zp, inv, shift + 7); uint8: reference_ops (always double rounding)"},
    {P::SingleRounding, BuiltinOp::L2_NORMALIZATION, "*", R::SingleRounding, "tensorflow/tflite-micro:tensorflow/lite/kernels/internal/reference/integer_ops/l2normalization.h", "int8 requantization single-rounded"},
    {P::Builtin, BuiltinOp::L2_NORMALIZATION, "*", R::DoubleRounding, "tensorflow/tensorflow:tensorflow/lite/kernels/l2norm.cc", "same integer kernels as the reference"},
    {P::Xnnpack, BuiltinOp::L2_NORMALIZATION, "*", R::DoubleRounding, "tensorflow/tensorflow:tensorflow/lite/kernels/l2norm.cc", "XNNPACK takes no L2_NORMALIZATION: TFLite builtin"},
    {P::Reference, BuiltinOp::RESIZE_BILINEAR, "*", R::DoubleRounding, "tensorflow/tflite-micro:tensorflow/lite/kernels/internal/reference/resize_bilinear.h", "int8/int16: 10-bit coordinates, sum / 2^20 rounded half away from zero; uint8: float + 0.5 truncated"},
    {P::SingleRounding, BuiltinOp::RESIZE_BILINEAR, "*", R::SingleRounding, "tensorflow/tflite-micro:tensorflow/lite/kernels/internal/reference/resize_bilinear.h", "int8/int16: (sum + 2^19) >> 20"},
    {P::Builtin, BuiltinOp::RESIZE_BILINEAR, "*", R::DoubleRounding, "tensorflow/tensorflow:tensorflow/lite/kernels/resize_bilinear.cc + internal/optimized/resize_bilinear.h", "int8/int16: reference integer kernel; uint8: ResizeBilinearGenericSmallChannel; float: 2x2 special case or generic accumulation"},
    {P::Xnnpack, BuiltinOp::RESIZE_BILINEAR, "*", R::DoubleRounding, kXnn, "KNOWN GAP: XNNPACK's ibilinear kernels not reproduced; builtin arithmetic used"},
    {P::Builtin, BuiltinOp::RESIZE_NEAREST_NEIGHBOR, "*", R::DoubleRounding, "tensorflow/tensorflow:tensorflow/lite/kernels/resize_nearest_neighbor.cc + optimized_ops ResizeNearestNeighbor", "8-bit without align_corners/half_pixel_centers: 16.16 fixed-point scale (in << 16) / out + 1; else the reference float rule"},
    {P::Xnnpack, BuiltinOp::RESIZE_NEAREST_NEIGHBOR, "*", R::DoubleRounding, kXnn, "KNOWN GAP: modelled as TFLite builtin"},
    // SUM, REDUCE_MAX, REDUCE_MIN, REDUCE_PROD (reduce_generic.cpp); TFLM has no REDUCE_PROD.
    {P::Reference, BuiltinOp::SUM, "*", R::DoubleRounding, "tensorflow/tflite-micro:tensorflow/lite/micro/kernels/reduce_common.cc EvalSumHelper + kernels/internal/reference/reduce.h QuantizedMeanOrSum", "8/16-bit: (sum(q) - n * zp_in) requantized by s_in / s_out, + zp_out, clamped; float: row-major sum"},
    {P::SingleRounding, BuiltinOp::SUM, "*", R::SingleRounding, "tensorflow/tflite-micro:tensorflow/lite/micro/kernels/reduce_common.cc", "as reference, single-rounded"},
    {P::Builtin, BuiltinOp::SUM, "*", R::DoubleRounding, "tensorflow/tensorflow:tensorflow/lite/kernels/reduce.cc EvalSum + internal/optimized/reduce.h QuantizedMeanOrSum", "8-bit with new quantization: round(float(sum(q)) * s_in/s_out - zp_in * s_in/s_out * n) + zp_out, cast to 8 bits without clamp (wraps); equal quantization and int16: sum in the element type (wraps)"},
    {P::Xnnpack, BuiltinOp::SUM, "*", R::DoubleRounding, kXnn, "KNOWN GAP: modelled as TFLite builtin (no golden data)"},
    {P::Reference, BuiltinOp::REDUCE_MAX, "*", R::DoubleRounding, "tensorflow/tflite-micro:tensorflow/lite/micro/kernels/reduce_common.cc EvalMaxHelper", "quantization must not change; float: in > current ? in : current (NaN skipped)"},
    {P::SingleRounding, BuiltinOp::REDUCE_MAX, "*", R::SingleRounding, "tensorflow/tflite-micro:tensorflow/lite/micro/kernels/reduce_common.cc EvalMaxHelper", "as reference (no requantization)"},
    {P::Builtin, BuiltinOp::REDUCE_MAX, "*", R::DoubleRounding, "tensorflow/tensorflow:tensorflow/lite/kernels/reduce.cc + internal/optimized/reduce.h MaxOp", "quantization must not change; float: current > in ? current : in (a NaN replaces the running value)"},
    {P::Xnnpack, BuiltinOp::REDUCE_MAX, "*", R::DoubleRounding, kXnn, "KNOWN GAP: modelled as TFLite builtin"},
    {P::Reference, BuiltinOp::REDUCE_MIN, "*", R::DoubleRounding, "tensorflow/tflite-micro:tensorflow/lite/micro/kernels/reduce_common.cc EvalMinHelper", "as REDUCE_MAX, mirrored"},
    {P::SingleRounding, BuiltinOp::REDUCE_MIN, "*", R::SingleRounding, "tensorflow/tflite-micro:tensorflow/lite/micro/kernels/reduce_common.cc EvalMinHelper", "as reference"},
    {P::Builtin, BuiltinOp::REDUCE_MIN, "*", R::DoubleRounding, "tensorflow/tensorflow:tensorflow/lite/kernels/reduce.cc + internal/optimized/reduce.h MinOp", "as REDUCE_MAX, mirrored"},
    {P::Xnnpack, BuiltinOp::REDUCE_MIN, "*", R::DoubleRounding, kXnn, "KNOWN GAP: modelled as TFLite builtin"},
    {P::Reference, BuiltinOp::REDUCE_PROD, "*", R::DoubleRounding, "tensorflow/tensorflow:tensorflow/lite/kernels/reduce.cc EvalQuantizedProd", "no TFLM kernel: TFLite's; int8/int16: each step acc * (q - zp_in) requantized by s_in / s_out^(1/n) (int64 multiply, same in both builds), once more at the end"},
    {P::SingleRounding, BuiltinOp::REDUCE_PROD, "*", R::SingleRounding, "tensorflow/tensorflow:tensorflow/lite/kernels/reduce.cc EvalQuantizedProd", "as reference"},
    {P::Builtin, BuiltinOp::REDUCE_PROD, "*", R::DoubleRounding, "tensorflow/tensorflow:tensorflow/lite/kernels/reduce.cc EvalQuantizedProd + internal/reference/reduce.h QuantizedReduceProd", "int8/int16 as reference; float/int32/int64: row-major product"},
    {P::Xnnpack, BuiltinOp::REDUCE_PROD, "*", R::DoubleRounding, kXnn, "not delegated: TFLite builtin"},
    // int16 LOGISTIC / TANH, quantized HARD_SWISH, 8-bit ABS / RSQRT / SQRT / LOG (activations.cpp).
    {P::Reference, BuiltinOp::LOGISTIC, "int16", R::DoubleRounding, "tensorflow/tflite-micro:tensorflow/lite/micro/kernels/logistic_common.cc + kernels/internal/reference/integer_ops/logistic.h", "zero points 0, output 2^-15; input to 1/(3*4096) units (multiplier 0 = power-of-two scale: 3 << shift), sigmoid(i/24) table, 9-bit interpolation"},
    {P::SingleRounding, BuiltinOp::LOGISTIC, "int16", R::SingleRounding, "tensorflow/tflite-micro:tensorflow/lite/kernels/internal/reference/integer_ops/logistic.h", "as reference (no requantization involved)"},
    {P::Builtin, BuiltinOp::LOGISTIC, "int16", R::DoubleRounding, "tensorflow/tensorflow:tensorflow/lite/kernels/activations.cc SigmoidEval + reference_integer_ops::Logistic / optimized_ops::Logistic", "non-power-of-two input scale: the TFLM table; input scale 2^-12: gemmlowp int16 fixed-point logistic on Q3.12 (optimized_ops::Logistic)"},
    {P::Xnnpack, BuiltinOp::LOGISTIC, "int16", R::DoubleRounding, "tensorflow/tensorflow:tensorflow/lite/kernels/activations.cc", "int16 is not delegated: as builtin"},
    {P::Reference, BuiltinOp::TANH, "int16", R::DoubleRounding, "tensorflow/tflite-micro:tensorflow/lite/micro/kernels/tanh_common.cc + kernels/internal/reference/integer_ops/tanh.h", "tanh(x) = 2 sigmoid(2x) - 1 on the sigmoid table, 8-bit index shift; scales 2^-12 and 2^-11 are power-of-two cases"},
    {P::SingleRounding, BuiltinOp::TANH, "int16", R::SingleRounding, "tensorflow/tflite-micro:tensorflow/lite/kernels/internal/reference/integer_ops/tanh.h", "as reference"},
    {P::Builtin, BuiltinOp::TANH, "int16", R::DoubleRounding, "tensorflow/tensorflow:tensorflow/lite/kernels/activations.cc TanhEval + reference_integer_ops::Tanh / optimized_ops::Tanh (= reference/tanh.h int16)", "non-power-of-two input scale: the table; scales 2^-12 / 2^-11: gemmlowp int16 fixed-point tanh on Q3.12 (2^-11: input doubled, saturating; optimized_ops::Tanh)"},
    {P::Xnnpack, BuiltinOp::TANH, "int16", R::DoubleRounding, "tensorflow/tensorflow:tensorflow/lite/kernels/activations.cc", "int16 is not delegated: as builtin"},
    {P::Reference, BuiltinOp::HARD_SWISH, "*", R::DoubleRounding, "tensorflow/tflite-micro:tensorflow/lite/micro/kernels/hard_swish.cc + kernels/internal/reference/hard_swish.h", "8-bit: input << 7 in int16, 16-bit output and reluish multipliers (QuantizeMultiplier, rounded to Q15), gemmlowp int16 SRDHM, truncating SQDMULH, RoundingDivideByPOT"},
    {P::SingleRounding, BuiltinOp::HARD_SWISH, "*", R::SingleRounding, "tensorflow/tflite-micro:tensorflow/lite/kernels/internal/reference/hard_swish.h", "as reference (no MultiplyByQuantizedMultiplier involved)"},
    {P::Builtin, BuiltinOp::HARD_SWISH, "*", R::DoubleRounding, "tensorflow/tensorflow:tensorflow/lite/kernels/activations.cc HardSwishEval + internal/optimized/optimized_ops.h HardSwish", "the NEON path is ARM-only; on x86 the scalar loop equals the reference kernel"},
    {P::Xnnpack, BuiltinOp::HARD_SWISH, "*", R::DoubleRounding, kXnn, "KNOWN GAP: 8-bit modelled as TFLite builtin (XNNPACK's qs8/qu8 hswish not reproduced)"},
    {P::Reference, BuiltinOp::ABS, "*", R::DoubleRounding, "tensorflow/tflite-micro:tensorflow/lite/micro/kernels/elementwise.cc", "int8/int16: |q - zp_in|, MultiplyByQuantizedMultiplier(s_in / s_out) only when scales differ, + zp_out, clamped (uint8: same rule, no upstream kernel)"},
    {P::SingleRounding, BuiltinOp::ABS, "*", R::SingleRounding, "tensorflow/tflite-micro:tensorflow/lite/micro/kernels/elementwise.cc", "as reference, single-rounded"},
    {P::Builtin, BuiltinOp::ABS, "*", R::DoubleRounding, "tensorflow/tensorflow:tensorflow/lite/kernels/elementwise.cc AbsEvalQuantized", "as reference"},
    {P::Xnnpack, BuiltinOp::ABS, "*", R::DoubleRounding, "tensorflow/tensorflow:tensorflow/lite/kernels/elementwise.cc", "quantized ABS is not delegated: as builtin"},
    {P::Reference, BuiltinOp::RSQRT, "*", R::DoubleRounding, "tensorflow/tensorflow:tensorflow/lite/kernels/elementwise.cc RsqrtEvalQuantizedInt8", "int8: GetInvSqrtQuantizedMultiplierExp(q - zp_in), MBQM(1, inv, shift + 20), MBQM(., 1/(sqrt(s_in) s_out), shift - 20) + zp_out; q < zp_in fails the op (TFLM's elementwise.cc assumed identical, unverified); int16: TFLite's LUT as builtin (TFLM has no int16 RSQRT)"},
    {P::SingleRounding, BuiltinOp::RSQRT, "*", R::SingleRounding, "tensorflow/tensorflow:tensorflow/lite/kernels/elementwise.cc RsqrtEvalQuantizedInt8", "as reference, both multiplies single-rounded"},
    {P::Builtin, BuiltinOp::RSQRT, "*", R::DoubleRounding, "tensorflow/tensorflow:tensorflow/lite/kernels/elementwise.cc RsqrtEvalQuantizedInt8", "as reference; int16: LUTPopulateInt16 table of 1/sqrt(x) (x <= 0 -> 32767 s_out), LUTLookup interpolation, zero points 0, negative input fails the op"},
    {P::Xnnpack, BuiltinOp::RSQRT, "*", R::DoubleRounding, "tensorflow/tensorflow:tensorflow/lite/kernels/elementwise.cc", "quantized RSQRT is not delegated: as builtin"},
    {P::Reference, BuiltinOp::SQRT, "*", R::DoubleRounding, "tensorflow/tensorflow:tensorflow/lite/kernels/elementwise.cc SqrtEvalQuantized", "int8/int16: int(sqrtf(s_in * (q - zp_in)) / s_out) + zp_out, truncated; negative inputs fail the op (TFLM has no quantized SQRT)"},
    {P::SingleRounding, BuiltinOp::SQRT, "*", R::SingleRounding, "tensorflow/tensorflow:tensorflow/lite/kernels/elementwise.cc SqrtEvalQuantized", "as reference (float arithmetic)"},
    {P::Builtin, BuiltinOp::SQRT, "*", R::DoubleRounding, "tensorflow/tensorflow:tensorflow/lite/kernels/elementwise.cc SqrtEvalQuantized", "as reference"},
    {P::Xnnpack, BuiltinOp::SQRT, "*", R::DoubleRounding, "tensorflow/tensorflow:tensorflow/lite/kernels/elementwise.cc", "quantized SQRT is not delegated: as builtin"},
    {P::Reference, BuiltinOp::LOG, "*", R::DoubleRounding, "tensorflow/tensorflow:tensorflow/lite/kernels/elementwise.cc LogLUTPrepare + internal/common.h LUTPopulate", "8-bit: float table of log(x), x <= 0 -> lowest output; round half away; int16 (zero points 0): LUTPopulateInt16 513-entry table, midpoint-corrected anchors, LUTLookup 7-bit interpolation (TFLM has no quantized LOG)"},
    {P::SingleRounding, BuiltinOp::LOG, "*", R::SingleRounding, "tensorflow/tensorflow:tensorflow/lite/kernels/elementwise.cc LogLUTPrepare", "as reference (float table)"},
    {P::Builtin, BuiltinOp::LOG, "*", R::DoubleRounding, "tensorflow/tensorflow:tensorflow/lite/kernels/elementwise.cc LogLUTPrepare", "as reference"},
    {P::Xnnpack, BuiltinOp::LOG, "*", R::DoubleRounding, "tensorflow/tensorflow:tensorflow/lite/kernels/elementwise.cc", "quantized LOG is not delegated: as builtin"},
};
// clang-format on

bool dtypeMatches(std::string_view pattern, model::DType t) {
    if (pattern == "*") return true;
    switch (t) {
        case model::DType::Int8:
            return pattern == "int8";
        case model::DType::UInt8:
            return pattern == "uint8";
        case model::DType::Int16:
            return pattern == "int16";
        case model::DType::Float32:
            return pattern == "float32";
        default:
            return false;
    }
}

}  // namespace

std::span<const RuleEntry> ruleTable() {
    return kRules;
}

const RuleEntry* findRule(RoundingProfile profile, model::BuiltinOp op, model::DType dtype) {
    for (const auto& r : kRules)
        if (r.profile == profile && r.op == op && r.dtype != "*" && dtypeMatches(r.dtype, dtype))
            return &r;
    for (const auto& r : kRules)
        if (r.profile == profile && r.op == op && r.dtype == "*") return &r;
    return nullptr;
}

RequantRule requantRuleFor(RoundingProfile profile, model::BuiltinOp op, model::DType dtype) {
    if (const auto* r = findRule(profile, op, dtype)) return r->rule;
    switch (profile) {
        case RoundingProfile::SingleRounding:
        case RoundingProfile::Xnnpack:
            return RequantRule::SingleRounding;
        default:
            return RequantRule::DoubleRounding;
    }
}

}  // namespace qs::engine
