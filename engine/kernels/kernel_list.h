// Every kernel family, one line each. A family is a .cpp in engine/kernels/ that defines
// `void registerKernels_<name>(KernelRegistry&)`.
// clang-format off
#define QS_KERNEL_FAMILIES(QS_KERNEL_FAMILY) \
    QS_KERNEL_FAMILY(conv)                   \
    QS_KERNEL_FAMILY(depthwise_conv)         \
    QS_KERNEL_FAMILY(fully_connected)        \
    QS_KERNEL_FAMILY(pooling)                \
    QS_KERNEL_FAMILY(add)                    \
    QS_KERNEL_FAMILY(softmax)                \
    QS_KERNEL_FAMILY(reduce)                 \
    QS_KERNEL_FAMILY(shape_ops)              \
    QS_KERNEL_FAMILY(transpose_conv)         \
    QS_KERNEL_FAMILY(batch_matmul)           \
    QS_KERNEL_FAMILY(quantize)               \
    QS_KERNEL_FAMILY(elementwise_binary)     \
    QS_KERNEL_FAMILY(data_movement)          \
    QS_KERNEL_FAMILY(activations)            \
    QS_KERNEL_FAMILY(control_flow)           \
    QS_KERNEL_FAMILY(svdf)                   \
    QS_KERNEL_FAMILY(lstm)                   \
    QS_KERNEL_FAMILY(densify)                \
    QS_KERNEL_FAMILY(detection_postprocess)  \
    QS_KERNEL_FAMILY(arg_minmax)             \
    QS_KERNEL_FAMILY(cast)                   \
    QS_KERNEL_FAMILY(resize)                 \
    QS_KERNEL_FAMILY(normalization)          \
    QS_KERNEL_FAMILY(reduce_generic)
// clang-format on
