#!/usr/bin/python3
# Expected values for tests/engine/lstm_test.cpp, computed independently of the engine in
# float64 with numpy (run with /usr/bin/python3, which has numpy). The LSTM follows the
# equations of tensorflow/lite/kernels/lstm_eval.cc (LstmStepFloat): gates from input,
# recurrent and peephole terms (the output gate's peephole sees the new cell state), layer
# norm with eps 1e-8, cell clip, o * tanh(c), projection with clip.
import numpy as np

np.set_printoptions(precision=9, floatmode="maxprec")


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def layer_norm(v, coef, bias):
    mean = v.mean()
    var = ((v - mean) ** 2).mean()
    return (v - mean) / np.sqrt(var + 1e-8) * coef + bias


def lstm_step(x, h, c, w, cell_clip=0.0, proj_clip=0.0):
    def gate(name, act, cell):
        z = w["wx_" + name] @ x + w["wh_" + name] @ h
        if "peep_" + name in w:
            z = z + w["peep_" + name] * cell
        if "ln_" + name in w:
            z = layer_norm(z, w["ln_" + name], w["b_" + name])
        else:
            z = z + w["b_" + name]
        return act(z)

    cifg = "wx_i" not in w
    f = gate("f", sigmoid, c)
    i = 1.0 - f if cifg else gate("i", sigmoid, c)
    g = gate("c", np.tanh, c)
    c = f * c + i * g
    if cell_clip > 0:
        c = np.clip(c, -cell_clip, cell_clip)
    o = gate("o", sigmoid, c)
    m = o * np.tanh(c)
    if "proj" in w:
        h = w["proj"] @ m + w.get("proj_b", 0.0)
        if proj_clip > 0:
            h = np.clip(h, -proj_clip, proj_clip)
    else:
        h = m
    return h, c


def base():
    a = np.array
    return {
        "wx_i": a([[0.1, 0.2], [-0.3, 0.4]]),
        "wx_f": a([[0.5, -0.1], [0.2, 0.3]]),
        "wx_c": a([[-0.4, 0.6], [0.7, -0.2]]),
        "wx_o": a([[0.3, 0.1], [-0.5, 0.2]]),
        "wh_i": a([[0.2, -0.1], [0.1, 0.3]]),
        "wh_f": a([[-0.2, 0.4], [0.3, 0.1]]),
        "wh_c": a([[0.6, 0.2], [-0.1, 0.5]]),
        "wh_o": a([[0.1, -0.3], [0.2, 0.2]]),
        "b_i": a([0.1, -0.1]),
        "b_f": a([1.0, 0.5]),
        "b_c": a([0.0, 0.2]),
        "b_o": a([-0.1, 0.3]),
    }


def show(label, *arrays):
    print(label, *[np.asarray(v).ravel().tolist() for v in arrays])


x1 = np.array([1.0, -2.0])
x2 = np.array([0.5, 0.25])
z = np.zeros(2)

# 1. Plain LSTM, one step, then a second step from that state (keep_state / 2-step sequence).
w = base()
h1, c1 = lstm_step(x1, z, z, w)
h2, c2 = lstm_step(x2, h1, c1, w)
show("plain step1 h c:", h1, c1)
show("plain step2 h c:", h2, c2)

# 2. Peephole + projection [1 x 2] with bias, cell_clip 0.3, proj_clip 0.05.
wp = base()
wp["peep_i"] = np.array([0.5, -0.5])
wp["peep_f"] = np.array([0.25, 0.75])
wp["peep_o"] = np.array([-1.0, 2.0])
wp["proj"] = np.array([[0.8, -0.6]])
wp["proj_b"] = np.array([0.05])
wp["wh_i"] = wp["wh_i"][:, :1]
wp["wh_f"] = wp["wh_f"][:, :1]
wp["wh_c"] = wp["wh_c"][:, :1]
wp["wh_o"] = wp["wh_o"][:, :1]
h, c = lstm_step(x1, np.zeros(1), z, wp)
h, c = lstm_step(x2, h, c, wp)
show("peephole+projection 2 steps h c:", h, c)
h, c = lstm_step(x1, np.zeros(1), z, wp, cell_clip=0.3, proj_clip=0.05)
hb, cb = lstm_step(x2, h, c, wp, cell_clip=0.3, proj_clip=0.05)
show("clipped step1 h c:", h, c)
show("clipped step2 h c:", hb, cb)

# 3. CIFG + layer norm, time-major [2 steps, 2 batches].
wc = base()
for k in ("wx_i", "wh_i", "b_i"):
    del wc[k]
wc["ln_f"] = np.array([1.0, 0.5])
wc["ln_c"] = np.array([0.8, 1.2])
wc["ln_o"] = np.array([1.5, -0.5])
xs = {0: [x1, x2], 1: [np.array([-1.0, 0.5]), np.array([0.0, 3.0])]}
for b in (0, 1):
    h, c = z, z
    outs = []
    for t in (0, 1):
        h, c = lstm_step(xs[b][t], h, c, wc)
        outs.append(h)
    show(f"cifg+layernorm batch {b} h(t0) h(t1) c:", outs[0], outs[1], c)
