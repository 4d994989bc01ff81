#!/usr/bin/python3
# Expected int8 outputs for the int8x8_16 LSTM tests in tests/engine/lstm_test.cpp, written
# independently of the engine from tensorflow/lite/kernels/lstm_eval.cc (LstmStepInteger8x8_16),
# unidirectional_sequence_lstm.cc (PopulateQuantizedLstmParams8x8_16, zero-point folding) and
# internal/reference/portable_tensor_utils.cc, with gemmlowp's int16 fixed-point logistic/tanh.
# Python integers throughout; numpy only for float32 scale arithmetic. Run with /usr/bin/python3.
import math
import numpy as np

f32 = np.float32


def quantize_multiplier(real, single_rounding):
    # quantization_util.cc QuantizeMultiplier
    if real == 0.0:
        return 0, 0
    q, shift = math.frexp(real)
    q_fixed = int(math.floor(abs(q) * 2**31 + 0.5)) * (1 if q >= 0 else -1)
    if q_fixed == 2**31:
        q_fixed //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    if single_rounding and shift > 30:
        return 2**31 - 1, 30
    return q_fixed, shift


def srdhm32(a, b):
    if a == b == -2**31:
        return 2**31 - 1
    ab = a * b
    nudge = 2**30 if ab >= 0 else 1 - 2**30
    return int((ab + nudge) / 2**31) if False else _tdiv(ab + nudge, 2**31)


def _tdiv(n, d):  # C integer division (truncation toward zero)
    q = abs(n) // abs(d)
    return q if (n >= 0) == (d > 0) else -q


def rdpot(x, e):  # gemmlowp RoundingDivideByPOT, ties away from zero
    if e == 0:
        return x
    mask = (1 << e) - 1
    rem = x & mask
    thr = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> e) + (1 if rem > thr else 0)


def wrap32(v):
    return ((v + 2**31) % 2**32) - 2**31


def mbqm(x, m, shift, single):
    if single:
        total = 31 - shift
        return max(-2**31, min(2**31 - 1, (x * m + (1 << (total - 1))) >> total))
    left = max(shift, 0)
    right = max(-shift, 0)
    return rdpot(srdhm32(wrap32(x << left), m), right)


# ---- gemmlowp int16 fixed point ----
def w16(v):
    return ((v + 2**15) % 2**16) - 2**15


def m16(a, b):
    if a == b == -32768:
        return 32767
    ab = a * b
    nudge = (1 << 14) if ab >= 0 else 1 - (1 << 14)
    return _tdiv(ab + nudge, 1 << 15)


def pot16(x, e):
    if e > 0:
        return max(-32768, min(32767, x * (1 << e)))
    return rdpot(x, -e) if e < 0 else x


def c16(v32):  # RescaleConstantInitializer: int32 constant -> int16
    return rdpot(v32, 16)


def exp_interval(a):
    ct, third = c16(1895147668), c16(715827883)
    x = w16(a + (1 << 12))
    x2 = m16(x, x)
    x3 = m16(x2, x)
    x4 = m16(x2, x2)
    poly = pot16(w16(m16(w16(pot16(x4, -2) + x3), third) + x2), -1)
    return w16(ct + m16(ct, w16(x + poly)))


def exp_neg(a, bits):
    frac = 15 - bits
    quarter = 1 << (frac - 2)
    amq = w16((a & (quarter - 1)) - quarter)
    r = exp_interval(pot16(amq, bits))
    rem = w16(amq - a)
    for e, mult in [(-2, 1672461947), (-1, 1302514674), (0, 790015084), (1, 290630308),
                    (2, 39332535), (3, 720401), (4, 242)]:
        if bits > e and (rem >> (frac + e)) & 1:
            r = m16(r, c16(mult))
    if bits > 5 and a < -(1 << (frac + 5)):
        r = 0
    if a == 0:
        r = 32767
    return r


def newton(a, minus_one):
    s = a + 32767
    hd = _tdiv(s + (1 if s >= 0 else -1), 2)
    x = w16(c16(1515870810) + m16(hd, c16(-1010580540)))
    for _ in range(3):
        om = w16((1 << 13) - m16(hd, x))
        x = w16(x + pot16(m16(x, om), 2))
    return pot16(w16(x - (1 << 13)), 2) if minus_one else pot16(x, 1)


def logistic16(a, bits):
    if a == 0:
        return 1 << 14
    # 1 / (1 + exp(-|a|)) is the positive half; One() - it the negative one.
    r = newton(exp_neg(-abs(a) if a != -32768 else -32768, bits), False)
    return r if a > 0 else w16(32767 - r)


def tanh16(a, bits):
    if a == 0:
        return 0
    n = a if a < 0 else w16(-a)
    t = newton(exp_neg(n, bits + 1), True)
    return w16(-t) if a < 0 else t


# ---- the LSTM ----
def prepare(m, single):
    gate_scale = f32(2.0**-12)
    q = {"gates": []}
    for g in range(4):
        if m["wx"][g] is None:
            q["gates"].append(None)
            continue
        ein = f32(f32(m["wx_scale"][g]) * f32(m["in_scale"])) / gate_scale
        erec = f32(f32(m["wh_scale"][g]) * f32(m["h_scale"])) / gate_scale
        wx, wh = m["wx"][g], m["wh"][g]
        q["gates"].append({
            "in": quantize_multiplier(float(ein), single),
            "rec": quantize_multiplier(float(erec), single),
            "in_bias": [m["bias"][g][r] + sum(wx[r]) * (-m["in_zp"]) for r in range(len(wx))],
            "rec_bias": [sum(wh[r]) * (-m["h_zp"]) for r in range(len(wh))],
        })
    # Peephole (lstm.cc: std::pow(2, cell_scale) * w_scale / gate_scale in double, stored
    # as float) and projection (proj_scale * hidden_scale / output_state_scale in float).
    cs = int(round(math.log2(m["c_scale"])))
    q["peep"] = [None if m.get("peep") is None or m["peep"][g] is None else
                 quantize_multiplier(float(f32(2.0**cs * float(f32(m["peep_scale"][g])) /
                                               float(gate_scale))), single)
                 for g in range(4)]
    if m.get("proj") is not None:
        ep = f32(f32(m["proj_scale"]) * f32(m["hidden_scale"])) / f32(m["h_scale"])
        q["proj"] = quantize_multiplier(float(ep), single)
        pb = m.get("proj_bias") or [0] * len(m["proj"])
        q["proj_bias"] = [pb[r] + m["hidden_zp"] * sum(m["proj"][r]) for r in range(len(pb))]
        pc = m.get("proj_clip", 0.0)
        q["proj_clip"] = int(max(min(f32(pc) / f32(m["out_scale"]), 127.0), -128.0)) if pc > 0 else 0
    hid = f32(2.0**-15 / float(f32(m["hidden_scale"])) * 2.0**-15)
    q["hidden"] = quantize_multiplier(float(hid), single)
    q["cell_scale"] = int(round(math.log2(m["c_scale"])))
    clip = m.get("cell_clip", 0.0)
    q["clip"] = int(max(min(f32(clip) / f32(m["c_scale"]), 32767.0), -32768.0)) if clip > 0 else 0
    return q


def gate(gq, x, wx, h, wh, sig, single, peep=None):
    # peep: (weights, multiplier, cell state, flat offset, count, n_output): lstm_eval.cc's
    # VectorBatchVectorCwiseProductAccumulate walks n_batch * n_output cells (v_size n_output).
    out = []
    for r in range(len(wx)):
        acc = gq["in_bias"][r] + sum(a * b for a, b in zip(wx[r], x))
        v = max(-32768, min(32767, mbqm(acc, *gq["in"], single)))
        acc = gq["rec_bias"][r] + sum(a * b for a, b in zip(wh[r], h))
        v = max(-32768, min(32767, mbqm(acc, *gq["rec"], single) + v))
        if peep is not None and r < peep[4]:
            w, mult, c, off, _, n_out = peep
            v = max(-32768, min(32767, mbqm(w[(off + r) % n_out] * c[r], *mult, single) + v))
        out.append(logistic16(v, 3) if sig else tanh16(v, 3))
    return out


def step(m, q, x, h, c, single, span=None):
    cifg = m["wx"][0] is None
    n_out = len(m["wh"][1][0])

    def pp(g, cells):
        if m.get("peep") is None or m["peep"][g] is None:
            return None
        off, count = span if span is not None else (0, n_out)
        return (m["peep"][g], q["peep"][g], cells, off, count, n_out)
    G = [None if (g == 0 and cifg) else
         gate(q["gates"][g], x, m["wx"][g], h, m["wh"][g], g != 2, single, pp(g, c))
         for g in range(3)]
    cs = q["cell_scale"]
    newc = []
    for i in range(len(c)):
        kept = w16(rdpot(G[1][i] * c[i], 15))
        ig = 32767 - G[1][i] if cifg else G[0][i]
        add = w16(rdpot(ig * G[2][i], 30 + cs))
        v = max(-32768, min(32767, kept + add))
        if q["clip"] > 0:
            v = max(-q["clip"], min(q["clip"], v))
        newc.append(v)
    o = gate(q["gates"][3], x, m["wx"][3], h, m["wh"][3], True, single, pp(3, newc))
    hidden = []
    for i in range(len(newc)):
        t = tanh16(newc[i], 15 + cs)
        v = mbqm(o[i] * t, *q["hidden"], single) - m["hidden_zp"]  # upstream subtracts the zp
        hidden.append(max(-128, min(127, v)))
    if m.get("proj") is None:
        return hidden, newc
    newh = []
    for r in range(len(m["proj"])):
        acc = q["proj_bias"][r] + sum(a * b for a, b in zip(m["proj"][r], hidden))
        v = max(-128, min(127, mbqm(acc, *q["proj"], single) + m["h_zp"]))
        if q["proj_clip"] > 0:
            v = max(-q["proj_clip"], min(q["proj_clip"], v))
        newh.append(v)
    return newh, newc


def run_batches(m, xs, single, time_major):
    """xs[t][b]: n_batch rows per step. Time-major input is one lstm_eval call per step over
    all rows (the peephole walk spans rows); batch-major runs each row alone (n_batch = 1)."""
    q = prepare(m, single)
    n_batch, n_cell, n_out = len(xs[0]), len(m["wx"][1]), len(m["wh"][1][0])
    hs = [[m["h_zp"]] * n_out for _ in range(n_batch)]
    cs = [[0] * n_cell for _ in range(n_batch)]
    outs = [[None] * n_batch for _ in xs]
    for b in range(n_batch):
        off = b * n_cell if time_major else 0
        rows = n_batch if time_major else 1
        span = (off, max(0, min(n_cell, rows * n_out - off)))
        for t in range(len(xs)):
            hs[b], cs[b] = step(m, q, xs[t][b], hs[b], cs[b], single, span)
            outs[t][b] = hs[b]
    return outs, cs


def run(m, xs, single):
    q = prepare(m, single)
    h = [0] * 0 + [m["h_zp"]] * len(m["wh"][1][0])
    c = [0] * len(m["wx"][1])
    outs = []
    for x in xs:
        h, c = step(m, q, x, h, c, single)
        outs += h
    return outs, h, c


BASE = {
    "in_scale": 0.02, "in_zp": 3,
    "h_scale": 1.0 / 128, "h_zp": 0,
    "c_scale": 2.0**-11,
    "hidden_scale": 1.0 / 128, "hidden_zp": 0,
    "wx_scale": [0.005, 0.005, 0.006, 0.004],
    "wh_scale": [0.004, 0.005, 0.005, 0.003],
    "wx": [[[20, 40], [-60, 80]], [[100, -20], [40, 60]], [[-67, 100], [117, -33]],
           [[75, 25], [-125, 50]]],
    "wh": [[[50, -25], [25, 75]], [[-40, 80], [60, 20]], [[120, 40], [-20, 100]],
           [[33, -100], [67, 67]]],
    # gate biases in input_scale * weight_scale units
    "bias": [[1000, -1000], [10000, 5000], [0, 1667], [-1250, 3750]],
}
XS = [[50, -97], [28, 15]]

if __name__ == "__main__":
    for name, single in [("double rounding", False), ("single rounding", True)]:
        outs, h, c = run(BASE, XS, single)
        print(f"base {name}: output {outs} h {h} c {c}")
    cifg = dict(BASE)
    cifg["wx"] = [None] + BASE["wx"][1:]
    cifg["wh"] = [None] + BASE["wh"][1:]
    cifg["cell_clip"] = 0.3
    cifg["hidden_zp"] = 5
    for name, single in [("double rounding", False), ("single rounding", True)]:
        outs, h, c = run(cifg, XS, single)
        print(f"cifg+clip+zp {name}: output {outs} h {h} c {c}")
    zp = dict(BASE)
    zp["in_zp"] = -1
    for name, single in [("double rounding", False), ("single rounding", True)]:
        outs, h, c = run(zp, XS, single)
        print(f"in_zp=-1 {name}: output {outs} h {h} c {c}")
    # Peephole + projection (n_cell 4, n_output 3, 2 batches, 2 steps): projection bias,
    # hidden and output-state zero points, proj clip; time-major vs batch-major differ by
    # upstream's peephole walk.
    pp = {
        "in_scale": 0.02, "in_zp": 3, "h_scale": 1.0 / 128, "h_zp": 2,
        "c_scale": 2.0**-12, "hidden_scale": 1.0 / 64, "hidden_zp": -3,
        "wx_scale": [0.005, 0.005, 0.006, 0.004], "wh_scale": [0.004, 0.005, 0.005, 0.003],
        "wx": [[[20, 40], [-60, 80], [30, -50], [90, 10]],
               [[100, -20], [40, 60], [-70, 20], [15, 25]],
               [[-67, 100], [117, -33], [50, 50], [-90, 40]],
               [[75, 25], [-125, 50], [10, -100], [60, 60]]],
        "wh": [[[50, -25, 10], [25, 75, -40], [0, 30, 60], [-20, 10, 90]],
               [[-40, 80, 5], [60, 20, -15], [35, -45, 25], [70, 0, -60]],
               [[120, 40, -30], [-20, 100, 50], [45, -85, 15], [10, 20, 30]],
               [[33, -100, 20], [67, 67, -67], [-50, 40, 80], [25, -35, 45]]],
        "bias": [[1000, -1000, 500, 0], [10000, 5000, 8000, 6000], [0, 1667, -800, 2400],
                 [-1250, 3750, 2000, -500]],
        "peep": [[3000, -2000, 1500, 2500], [-4000, 3500, 2000, -1000], None,
                 [2500, 3000, -3500, 4000]],
        "peep_scale": [1e-4, 1.2e-4, None, 0.9e-4],
        "proj": [[40, -60, 80, 20], [-100, 30, 50, 70], [90, 90, -40, -20]],
        "proj_scale": 0.006, "proj_bias": [300, -500, 800],
        "proj_clip": 0.15, "out_scale": 1.0 / 128,
    }
    pxs = [[[50, -97], [-20, 64]], [[28, 15], [100, -100]]]
    for tm in (True, False):
        for name, single in [("double rounding", False), ("single rounding", True)]:
            outs, cs = run_batches(pp, pxs, single, tm)
            print(f"peephole+projection time_major={tm} {name}: output {outs} c {cs}")
    # gemmlowp spot values: sigmoid(0.5) in Q3.12 -> Q0.15, tanh(-1) with 3 and 4 bits.
    print("logistic16(2048,3)", logistic16(2048, 3), "ideal", 32768 / (1 + math.exp(-0.5)))
    print("tanh16(-4096,3)", tanh16(-4096, 3), "ideal", 32768 * math.tanh(-1))
    print("tanh16(-2048,4)", tanh16(-2048, 4), "ideal", 32768 * math.tanh(-1))
