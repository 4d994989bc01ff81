#!/usr/bin/python3
# Expected int16 outputs for tests/engine/kernels_activations_test.cpp, written independently
# of the engine: TFLite builtin's int16 LOGISTIC / TANH at a power-of-two input scale
# (activations.cc -> optimized_ops::Logistic / Tanh: gemmlowp FixedPoint<int16_t, 3>, TANH at
# 2^-11 doubles the input first, saturating) and int16 RSQRT / LOG (elementwise.cc ->
# internal/common.h LUTPopulateInt16<float> + LUTLookup). float32 via numpy, step by step as
# the C++ computes. Run with /usr/bin/python3.
import numpy as np

from lstm_int8_oracle import logistic16, tanh16

f = np.float32


def rnd(x):  # TfLiteRound / std::round on float: half away from zero
    x = f(x)
    return f(np.sign(x) * np.floor(np.abs(x) + f(0.5)))


def lut_populate_int16(in_scale, in_zp, out_scale, out_zp, fn):
    in_scale, out_scale = f(in_scale), f(out_scale)
    input_min = in_scale * f(-32768 - in_zp)
    input_max = in_scale * f(32767 - in_zp)
    output_min = out_scale * f(-32768 - out_zp)
    output_max = out_scale * f(32767 - out_zp)
    step = (input_max - input_min) / f(512)
    half_step = step / f(2)
    inv = f(65536) / (output_max - output_min)
    clamp = lambda v: int(min(max(v, f(-32768)), f(32767)))
    lut = []
    for i in range(512):
        val = fn(input_min + f(i) * step)
        mid = fn(input_min + f(i) * step + half_step)
        nxt = fn(input_min + f(i + 1) * step)
        sample = rnd(val * inv)
        interp = rnd((nxt * inv + rnd(val * inv)) / f(2))
        midv = rnd(mid * inv)
        bias = rnd((interp - midv) / f(2))
        lut.append(clamp(sample - bias))
    lut.append(clamp(rnd(fn(input_max) * inv)))
    return lut


def w16(v):
    return ((v + 2**15) % 2**16) - 2**15


def lookup16(lut, v):
    index = 256 + (v >> 7)
    offset = v & 0x7F
    slope = w16(lut[index + 1] - lut[index])
    return w16(lut[index] + ((slope * offset + 64) >> 7))


def rsqrt_fn(out_scale):
    return lambda x: f(32767) * f(out_scale) if x <= 0 else f(1) / np.sqrt(f(x))


def log_fn(out_scale, out_zp=0):
    out_min = f(-32768 - out_zp) * f(out_scale)
    return lambda x: out_min if x <= 0 else np.log(f(x))


if __name__ == "__main__":
    q = [0, 4096, -4096, 2048, 32767, -32768]
    print("logistic 2^-12", [logistic16(v, 3) for v in q])
    print("tanh 2^-12", [tanh16(v, 3) for v in q])
    q11 = [0, 2048, -2048, 1000, 20000, -20000]
    print("tanh 2^-11", [tanh16(max(-32768, min(32767, 2 * v)), 3) for v in q11])
    lut = lut_populate_int16(1 / 4096, 0, 1 / 8192, 0, rsqrt_fn(1 / 8192))
    qr = [1, 100, 1024, 4096, 4097, 16384, 32767]
    print("rsqrt in 2^-12 out 2^-13", [lookup16(lut, v) for v in qr],
          "ideal", [round(8192 / np.sqrt(v / 4096)) for v in qr])
    lut = lut_populate_int16(0.001, 0, 1 / 4096, 0, log_fn(1 / 4096))
    ql = [1, 100, 1000, 2718, 5000, 32767, 0, -7]
    print("log in 0.001 out 2^-12", [lookup16(lut, v) for v in ql],
          "ideal", [round(4096 * np.log(v / 1000)) if v > 0 else None for v in ql])
