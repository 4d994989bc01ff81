#!/usr/bin/python3
# Expected values for the hybrid BATCH_MATMUL tests in tests/engine/lstm_test.cpp, in float32
# the way LiteRT's batch_matmul.cc EvalHybrid forms them: each lhs row quantized on its own
# (portable_tensor_utils.cc Symmetric/AsymmetricQuantizeFloats), int32 dot with the int8
# weights, zero-point correction, then float(scale) * float(acc).
import numpy as np

f32 = np.float32


def sym_quant(row):
    rng = f32(np.max(np.abs(row)))
    inv = f32(127.0) / rng
    q = np.array([np.clip(np.sign(v) * np.floor(abs(v) + 0.5), -127, 127)
                  for v in (row * inv).astype(f32)], dtype=np.int32)
    return q, f32(rng / f32(127.0)), 0


def asym_quant(row):
    rmin = float(min(0.0, f32(row.min())))
    rmax = float(max(0.0, f32(row.max())))
    scale = (rmax - rmin) / 255.0
    zmin, zmax = -128 - rmin / scale, 127 - rmax / scale
    emin, emax = abs(-128) + abs(rmin / scale), abs(127) + abs(rmax / scale)
    zp = zmin if emin < emax else zmax
    zp = int(np.sign(zp) * np.floor(abs(zp) + 0.5))
    inv = f32(1.0 / scale)
    q = [int(np.sign(v) * np.floor(abs(v) + 0.5)) + zp for v in (inv * row.astype(f32))]
    return np.clip(np.array(q), -128, 127), f32(scale), zp


def hybrid_row(row, w, scales, asym):
    """One lhs row times w [depth, cols]; scales: per-tensor [s] or per-channel."""
    q, s, zp = (asym_quant if asym else sym_quant)(row)
    out = []
    for i in range(w.shape[1]):
        total = int(np.dot(q, w[:, i]))
        total = int(f32(total) - f32(w[:, i].sum()) * f32(zp))
        scale = s * f32(scales[0]) if len(scales) == 1 else s * f32(scales[i])
        out.append(f32(scale) * f32(total))
    return out, s


lhs = np.array([[1.27, -0.5, 0.3], [0.2, 0.4, -0.8]], dtype=f32)
w = np.array([[10, -20], [30, 5], [-7, 12]], dtype=np.int32)
for name, scales, asym in (("symmetric", [0.01], False), ("asymmetric", [0.01], True),
                           ("per-channel", [0.01, 0.02], False)):
    rows = [hybrid_row(r, w, scales, asym)[0] for r in lhs]
    print(name, [float(v) for r in rows for v in r])
    print("  float reference", (lhs.astype(np.float64) @ (w * np.array(scales))).ravel().tolist())

# Rank 4: lhs [2,2,1,3], rhs [2,2,3,2]. Upstream offsets the per-row scale by (b1 + b2) rows
# instead of (2 * b1 + b2): matrix (1,0) uses matrix (0,1)'s scale, (1,1) uses (1,0)'s.
lhs4 = np.array([[1.0, 0.5, -0.25], [2.0, -1.0, 0.5], [-4.0, 1.0, 2.0], [0.8, 0.2, -0.4]],
                dtype=f32)
w4 = np.array([[[1, 2], [3, 4], [5, 6]], [[-1, 0], [2, -3], [4, 1]],
               [[7, -7], [0, 1], [2, 2]], [[3, 3], [-2, 5], [1, -1]]], dtype=np.int32)
scales_used = {0: 0, 1: 1, 2: 1, 3: 2}
per_row = [sym_quant(r) for r in lhs4]
out = []
for m in range(4):
    q, _, _ = per_row[m]
    s = f32(per_row[scales_used[m]][1] * f32(0.05))
    out += [float(f32(s) * f32(int(np.dot(q, w4[m][:, i])))) for i in range(2)]
print("rank4 quirk", out)
