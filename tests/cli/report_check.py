#!/usr/bin/python3
"""Checks `quantscope-cli report` against numpy, and its files against their documented format.

For each model: dump the int engine (`run --dump`) and the float twin (`run --engine float
--dump`) on the conformance input, recompute every metric of every tensor with numpy from
those dumps (quantization parameters from the conformance index.tsv, not from our JSON), and
compare with the CSV / per-channel CSV / JSON that `report` wrote. Then: QuantizationDebugger's
column names and order, JSON and Model Explorer structure, a 3-sample dataset (averaged vs
pooled), and the conformance float/quantized pairs.

usage: report_check.py CLI CONFORMANCE_DIR WORK_DIR
Exits 1 on the first group of mismatches (all of them printed).
"""
import csv
import json
import math
import os
import shutil
import subprocess
import sys

import numpy as np

CLI, CONF, WORK = sys.argv[1], sys.argv[2], sys.argv[3]
FAILURES = []

QD_COLUMNS = ["op_name", "tensor_idx", "num_elements", "stddev", "mean_error", "max_abs_error",
              "mean_squared_error", "scale", "zero_point", "tensor_name"]
METRICS = ["num_elements", "stddev", "mean_error", "max_abs_error", "mean_squared_error", "rmse",
           "rmse_lsb", "sqnr_db", "cosine_similarity", "relative_l2", "saturation_pct",
           "float_min", "float_max", "representable_min", "representable_max", "out_of_range_pct"]
OURS = ["op_index", "dtype", "shape", "quantized_dimension", "channel_axis",
        "reference_tensor_idx", "reference_tensor_name", "pairing", "samples"]
EXPECTED_HEADER = QD_COLUMNS + OURS + METRICS[5:] + ["pooled_" + m for m in METRICS]
QRANGE = {"int8": (-128, 127), "uint8": (0, 255), "int16": (-32768, 32767)}


def fail(msg):
    FAILURES.append(msg)
    print("MISMATCH: " + msg)


def cli(*args):
    r = subprocess.run([CLI, *args], capture_output=True, text=True)
    if r.returncode != 0:
        fail("quantscope-cli %s exited %d: %s" % (" ".join(args), r.returncode, r.stderr.strip()))
    return r


def close(a, b, rel=1e-9, abs_=1e-12):
    if isinstance(a, str):
        a = float(a)
    if isinstance(b, str):
        b = float(b)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= abs_ + rel * max(abs(a), abs(b))


def oracle_index(model):
    for oracle in ("tflm", "litert", "tflite_builtin"):
        path = os.path.join(CONF, model, oracle, "index.tsv")
        if os.path.exists(path):
            with open(path) as f:
                return {int(r["tensor_index"]): r for r in csv.DictReader(f, delimiter="\t")}
    raise RuntimeError("no index.tsv for " + model)


def numpy_metrics(q_raw, f, scales, zps, qdim, dtype, axis):
    """Every metric for the whole tensor and for each channel along `axis`."""
    q_raw = np.asarray(q_raw)
    f = np.asarray(f, dtype=np.float32).astype(np.float64).reshape(q_raw.shape)
    quantized = len(scales) > 0 and dtype in QRANGE
    shape = q_raw.shape
    if quantized:
        s = np.asarray(scales, dtype=np.float32).astype(np.float64)
        z = np.asarray(zps, dtype=np.float64)
        if len(scales) > 1:
            bshape = [1] * len(shape)
            bshape[qdim] = len(scales)
            s, z = s.reshape(bshape), z.reshape(bshape)
        # TFLite's DEQUANTIZE: float(double(scale) * (q - zp)).
        q = (s * (q_raw.astype(np.float64) - z)).astype(np.float32).astype(np.float64)
        s_full = np.broadcast_to(s, shape)
        z_full = np.broadcast_to(z, shape)
        lo, hi = QRANGE[dtype]
        rmin, rmax = (lo - z_full) * s_full, (hi - z_full) * s_full
    else:
        q = q_raw.astype(np.float64)

    def reduce(sel):
        d = (q - f)[sel]
        qq, ff = q[sel], f[sel]
        m = {"num_elements": d.size, "stddev": np.std(d), "mean_error": np.average(d),
             "max_abs_error": np.max(np.abs(d)), "mean_squared_error": np.average(d ** 2)}
        m["rmse"] = math.sqrt(m["mean_squared_error"])
        sd2, sf2 = np.sum(d ** 2), np.sum(ff ** 2)
        m["sqnr_db"] = math.inf if sd2 == 0 else (-math.inf if sf2 == 0 else 10 * math.log10(sf2 / sd2))
        den = math.sqrt(np.sum(qq ** 2)) * math.sqrt(sf2)
        m["cosine_similarity"] = (1.0 if np.sum(qq ** 2) == 0 and sf2 == 0 else 0.0) if den == 0 \
            else min(1.0, max(-1.0, np.sum(qq * ff) / den))
        m["relative_l2"] = (0.0 if sd2 == 0 else math.inf) if sf2 == 0 else math.sqrt(sd2 / sf2)
        m["float_min"], m["float_max"] = np.min(ff), np.max(ff)
        if quantized:
            m["rmse_lsb"] = math.sqrt(np.average((d / s_full[sel]) ** 2))
            raw = q_raw[sel]
            m["saturation_pct"] = 100.0 * np.count_nonzero((raw == lo) | (raw == hi)) / d.size
            m["representable_min"], m["representable_max"] = np.min(rmin[sel]), np.max(rmax[sel])
            m["out_of_range_pct"] = 100.0 * np.count_nonzero(
                (ff < rmin[sel]) | (ff > rmax[sel])) / d.size
        else:
            for k in ("rmse_lsb", "saturation_pct", "representable_min", "representable_max",
                      "out_of_range_pct"):
                m[k] = math.nan
        return m

    total = reduce(np.ones(shape, dtype=bool))
    channels = []
    if axis >= 0:
        idx = np.indices(shape)[axis]
        channels = [reduce(idx == c) for c in range(shape[axis])]
    return total, channels


def read_csv(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], [dict(zip(rows[0], r)) for r in rows[1:]]


def check_model(model):
    base = os.path.join(WORK, model)
    shutil.rmtree(base, ignore_errors=True)
    os.makedirs(base)
    path = os.path.join(CONF, model, "model.tflite")
    inputs = sorted(os.listdir(os.path.join(CONF, model, "inputs")))
    in_args = []
    for i, name in enumerate(inputs):
        in_args += ["--input", "%d=%s" % (i, os.path.join(CONF, model, "inputs", name))]
    cli("run", path, *in_args, "--dump", os.path.join(base, "int"))
    cli("run", path, *in_args, "--engine", "float", "--dump", os.path.join(base, "float"))
    out = {k: os.path.join(base, k) for k in ("t.csv", "c.csv", "r.json", "me.json")}
    cli("report", path, *in_args, "--csv", out["t.csv"], "--per-channel-csv", out["c.csv"],
        "--json", out["r.json"], "--model-explorer", out["me.json"], "--metric", "rmse_lsb")
    header, rows = read_csv(out["t.csv"])
    if header != EXPECTED_HEADER:
        fail("%s: CSV header %s" % (model, header))
    cheader, crows = read_csv(out["c.csv"])
    with open(out["r.json"]) as f:
        report = json.load(f)
    index = oracle_index(model)
    checked = 0
    for row in rows:
        t = int(row["tensor_idx"])
        qfile = os.path.join(base, "int", "t%d.npy" % t)
        ffile = os.path.join(base, "float", "t%d.npy" % t)
        if not (os.path.exists(qfile) and os.path.exists(ffile)) or t not in index:
            fail("%s: tensor %d has a report row but no dump" % (model, t))
            continue
        info = index[t]
        scales = [float(x) for x in info["scales"].split(",")] if info["scales"] else []
        zps = [int(x) for x in info["zero_points"].split(",")] if info["zero_points"] else []
        qdim = int(info["quantized_dimension"])
        q_raw = np.load(qfile)
        dtype = str(q_raw.dtype)
        axis = qdim if len(scales) > 1 else q_raw.ndim - 1
        total, channels = numpy_metrics(q_raw, np.load(ffile), scales, zps, qdim, dtype, axis)
        if int(row["channel_axis"]) != axis:
            fail("%s t%d: channel_axis %s, expected %d" % (model, t, row["channel_axis"], axis))
        for m in METRICS:
            for col in (m, "pooled_" + m):
                # dB of a ratio: summation order moves it by ~1e-12 dB, so compare absolutely.
                if not close(row[col], total[m], abs_=1e-9 if m == "sqnr_db" else 1e-12):
                    fail("%s t%d %s: csv %s numpy %r" % (model, t, col, row[col], total[m]))
        if scales and not close(row["scale"], np.float32(scales[0])):
            fail("%s t%d scale %s vs %r" % (model, t, row["scale"], scales[0]))
        if zps and int(row["zero_point"]) != zps[0]:
            fail("%s t%d zero_point %s vs %r" % (model, t, row["zero_point"], zps[0]))
        mine = [r for r in crows if int(r["tensor_idx"]) == t]
        if len(mine) != len(channels):
            fail("%s t%d: %d channel rows, expected %d" % (model, t, len(mine), len(channels)))
        for c, (r, ref) in enumerate(zip(mine, channels)):
            if int(r["channel"]) != c:
                fail("%s t%d channel order" % (model, t))
            for m in METRICS:
                tol = 1e-9 if m == "sqnr_db" else 1e-12
                if not close(r[m], ref[m], abs_=tol) or not close(r["pooled_" + m], ref[m], abs_=tol):
                    fail("%s t%d ch%d %s: csv %s numpy %r" % (model, t, c, m, r[m], ref[m]))
        j = [e for e in report["tensors"] if e["tensor_idx"] == t]
        if len(j) != 1:
            fail("%s t%d: not once in the JSON" % (model, t))
        else:
            for m in METRICS:
                v = j[0]["averaged"][m]
                if (v is None) != (not math.isfinite(total[m])) or (v is not None and not close(v, total[m])):
                    fail("%s t%d json %s: %r vs %r" % (model, t, m, v, total[m]))
        checked += 1
    if checked == 0:
        fail(model + ": no tensor checked")
    # Model Explorer node data: {graphId: {results: {key: {value}}, gradient: [...]}}.
    with open(out["me.json"]) as f:
        me = json.load(f)
    if len(me) != 1:
        fail(model + ": Model Explorer file must have one graph")
    graph = next(iter(me.values()))
    stops = [g["stop"] for g in graph.get("gradient", [])]
    if stops[:1] != [0] or stops[-1:] != [1]:
        fail(model + ": gradient must run from stop 0 to stop 1")
    for key, val in graph["results"].items():
        if set(val) != {"value"} or not isinstance(val["value"], (int, float)):
            fail("%s: Model Explorer result %s is %r" % (model, key, val))
    first = {}
    for r in rows:
        key = r["op_index"] if r["op_index"] != "-1" else r["tensor_name"]
        first.setdefault(key, float(r["rmse_lsb"]))
    expected = {k: v for k, v in first.items() if math.isfinite(v)}
    if set(graph["results"]) != set(expected):
        fail("%s: Model Explorer keys %s, expected %s" % (model, sorted(graph["results"]), sorted(expected)))
    for k, v in expected.items():
        if k in graph["results"] and not close(graph["results"][k]["value"], v):
            fail("%s: Model Explorer %s = %r, CSV %r" % (model, k, graph["results"][k]["value"], v))
    print("%s: %d tensors match numpy" % (model, checked))


def check_dataset():
    model = "resnet8_cifar_int8"
    base = os.path.join(WORK, "dataset")
    shutil.rmtree(base, ignore_errors=True)
    os.makedirs(os.path.join(base, "samples"))
    x = np.load(os.path.join(CONF, model, "inputs", "input_0.npy"))
    rng = np.random.default_rng(7)
    singles = []
    for k in range(3):
        v = np.clip(x.astype(np.int32) + rng.integers(-20, 21, x.shape), -128, 127).astype(np.int8)
        p = os.path.join(base, "samples", "s%d.npy" % k)
        np.save(p, v)
        out = os.path.join(base, "s%d.csv" % k)
        cli("report", os.path.join(CONF, model, "model.tflite"), "--input", "0=" + p, "--csv", out)
        singles.append(read_csv(out)[1])
    r = cli("report", os.path.join(CONF, model, "model.tflite"), "--inputs",
            os.path.join(base, "samples"), "--csv", os.path.join(base, "all.csv"))
    if "sample 3/3" not in r.stderr:
        fail("dataset: no progress line on stderr: %r" % r.stderr)
    _, rows = read_csv(os.path.join(base, "all.csv"))
    for i, row in enumerate(rows):
        if row["samples"] != "3":
            fail("dataset: samples column %s" % row["samples"])
        for m in ("stddev", "mean_error", "max_abs_error", "mean_squared_error", "rmse_lsb"):
            per = [float(s[i][m]) for s in singles]
            if not close(row[m], np.nanmean(per), rel=1e-9):
                fail("dataset t%s averaged %s %s vs %r" % (row["tensor_idx"], m, row[m], np.nanmean(per)))
        n = [float(s[i]["num_elements"]) for s in singles]
        if not close(row["pooled_num_elements"], sum(n)):
            fail("dataset pooled num_elements")
        if not close(row["pooled_max_abs_error"], max(float(s[i]["max_abs_error"]) for s in singles)):
            fail("dataset pooled max_abs_error")
        # Pooled MSE/mean: element-weighted means of the samples' (equal sizes here).
        for m in ("mean_error", "mean_squared_error"):
            if not close(row["pooled_" + m], np.mean([float(s[i][m]) for s in singles]), rel=1e-9):
                fail("dataset pooled " + m)
        # Pooled variance = mean of variances + variance of means (equal sample sizes).
        means = np.array([float(s[i]["mean_error"]) for s in singles])
        vars_ = np.array([float(s[i]["stddev"]) ** 2 for s in singles])
        if not close(row["pooled_stddev"], math.sqrt(np.mean(vars_) + np.var(means)), rel=1e-7):
            fail("dataset t%s pooled stddev %s" % (row["tensor_idx"], row["pooled_stddev"]))
    print("dataset: %d tensors, averaged and pooled consistent" % len(rows))


def check_pairs():
    pairs = [("resnet8_cifar_int8", "resnet8_cifar_float"), ("ad01_toycar_int8", "ad01_toycar_fp32"),
             ("ad01_toycar_dynamic_range", "ad01_toycar_fp32"),
             ("mobilenet_v1_0.25_224_quant", "mobilenet_v1_0.25_224_float"),
             ("static_w8_a16_quantized_q_einsum", "q_einsum")]
    for q, f in pairs:
        out = os.path.join(WORK, "pair_%s.json" % q)
        cli("report", os.path.join(CONF, q, "model.tflite"), "--float",
            os.path.join(CONF, f, "model.tflite"), "--inputs", os.path.join(CONF, f, "inputs"),
            "--csv", os.path.join(WORK, "pair.csv"), "--json", out)
        with open(out) as fh:
            j = json.load(fh)
        p = j["pairing"]
        if not p["complete"] or p["unmatched_quantized"] or p["unmatched_float"]:
            fail("pair %s/%s incomplete: %s" % (q, f, p["notes"]))
        if j["reference"] != "paired float model" or not j["tensors"]:
            fail("pair %s: no tensors compared" % q)
    print("pairs: %d complete" % len(pairs))


def check_errors():
    r = subprocess.run([CLI, "report", os.path.join(CONF, "resnet8_cifar_int8", "model.tflite")],
                       capture_output=True, text=True)
    if r.returncode != 1 or not r.stderr.startswith("error: "):
        fail("report without --csv must exit 1 with an error line, got %d %r" % (r.returncode, r.stderr))
    r = subprocess.run([CLI, "report", os.path.join(WORK, "missing.tflite"), "--csv",
                        os.path.join(WORK, "x.csv")], capture_output=True, text=True)
    if r.returncode != 2:
        fail("report on a missing model must exit 2, got %d" % r.returncode)
    r = subprocess.run([CLI, "report", os.path.join(CONF, "resnet8_cifar_int8", "model.tflite"),
                        "--csv", os.path.join(WORK, "x.csv"), "--metric", "nope"],
                       capture_output=True, text=True)
    if r.returncode != 1:
        fail("unknown --metric must exit 1, got %d" % r.returncode)


os.makedirs(WORK, exist_ok=True)
for m in ["resnet8_cifar_int8", "kws_dscnn_int8", "ad01_toycar_int8", "mobilenet_v1_0.25_224_quant",
          "seanet_add11", "static_w8_a16_quantized_q_einsum", "person_detect"]:
    check_model(m)
check_dataset()
check_pairs()
check_errors()
if FAILURES:
    print("%d mismatches" % len(FAILURES))
    sys.exit(1)
print("all report checks passed")
