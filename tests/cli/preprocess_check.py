#!/usr/bin/python3
"""quantscope-cli resize against the libraries it reproduces.

usage: preprocess_check.py QUANTSCOPE_CLI SAMPLES_DIR WORK_DIR CONFORMANCE_DIR

* Decoding: every sample image (and generated gray / palette / 16-bit / RGBA PNGs, palette and
  32-bit BMPs, JPEGs with each EXIF orientation) against cv2.imread (BGR -> RGB): bit-exact.
* opencv-*: cv2.resize on the cv2-decoded RGB image: bit-exact.
* pil-*: PIL Image.resize on Image.fromarray(that same RGB array): bit-exact.
  Cases: integer and non-integer down- and up-scaling and odd sizes on four sample images.
* crop=center, --gray, PNG output, and the error path (unreadable image -> exit 2, one line).
* run/report --input 0=IMAGE --preprocess ...: the dumped input tensor equals the conformance
  input of resnet8_cifar_int8 (cv2 INTER_AREA of coral_cat.bmp to 32x32, pixel - 128).
Exits non-zero on any mismatch; the last line is 'N passed, M failed'.
"""
import io
import os
import subprocess
import sys

import cv2
import numpy as np
from PIL import Image

CLI, SAMPLES, WORK, CONFORMANCE = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
os.makedirs(WORK, exist_ok=True)
IMAGES = ["coral_cat.bmp", "coral_face.jpg", "tflsupport_burger.jpg", "tflsupport_sparrow.png"]

OPENCV = {
    "opencv-nearest": cv2.INTER_NEAREST,
    "opencv-linear": cv2.INTER_LINEAR,
    "opencv-linear-exact": cv2.INTER_LINEAR_EXACT,
    "opencv-area": cv2.INTER_AREA,
    "opencv-cubic": cv2.INTER_CUBIC,
    "opencv-lanczos4": cv2.INTER_LANCZOS4,
}
_R = getattr(Image, "Resampling", Image)
PIL = {
    "pil-nearest": _R.NEAREST,
    "pil-bilinear": _R.BILINEAR,
    "pil-bicubic": _R.BICUBIC,
    "pil-lanczos": _R.LANCZOS,
    "pil-box": _R.BOX,
    "pil-hamming": _R.HAMMING,
}

passed = 0
failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL: " + what, flush=True)


def run_resize(image, w, h, method, out, extra=()):
    cmd = [CLI, "resize", image, "--size", f"{w}x{h}", "--method", method, "--out", out, *extra]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        print("command failed: " + " ".join(cmd) + "\n" + r.stderr, flush=True)
        return None
    return np.load(out) if out.endswith(".npy") else out


def cv_rgb(path):
    img = cv2.imread(path, cv2.IMREAD_COLOR)
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def describe_diff(a, b):
    if a.shape != b.shape:
        return f"shape {a.shape} vs {b.shape}"
    d = np.abs(a.astype(np.int32) - b.astype(np.int32))
    return f"{int((d > 0).sum())} of {d.size} differ, max {int(d.max())}"


def decode_check(path, label):
    ref = cv_rgb(path)
    h, w = ref.shape[:2]
    got = run_resize(path, w, h, "opencv-nearest", os.path.join(WORK, "decode.npy"))
    ok = got is not None and got.shape == ref.shape and np.array_equal(got, ref)
    check(ok, f"decode {label}: " + ("no output" if got is None else describe_diff(got, ref)))


# ---- decoding ------------------------------------------------------------------------------
for name in IMAGES:
    decode_check(os.path.join(SAMPLES, name), name)

base = cv_rgb(os.path.join(SAMPLES, "coral_cat.bmp"))[:61, :83]
pil_base = Image.fromarray(base)
generated = {
    "gray.png": lambda p: pil_base.convert("L").save(p),
    "palette.png": lambda p: pil_base.convert("P", palette=Image.ADAPTIVE, colors=37).save(p),
    "rgba.png": lambda p: pil_base.convert("RGBA").save(p),
    "gray_alpha.png": lambda p: pil_base.convert("LA").save(p),
    "rgb16.png": lambda p: cv2.imwrite(
        p, (cv2.cvtColor(base, cv2.COLOR_RGB2BGR).astype(np.uint16) * 257 + 77)),
    "palette.bmp": lambda p: pil_base.convert("P", palette=Image.ADAPTIVE, colors=16).save(p),
    "gray.bmp": lambda p: pil_base.convert("L").save(p),
    "mono.bmp": lambda p: pil_base.convert("1").save(p),
    "rgba32.bmp": lambda p: pil_base.convert("RGBA").save(p),
    "gray.jpg": lambda p: pil_base.convert("L").save(p, quality=90),
    "progressive.jpg": lambda p: pil_base.save(p, quality=85, progressive=True),
    "subsampled420.jpg": lambda p: pil_base.save(p, quality=75, subsampling=2),
}
for orientation in range(1, 9):
    def save_oriented(p, o=orientation):
        exif = Image.Exif()
        exif[0x0112] = o
        pil_base.save(p, quality=92, exif=exif.tobytes())
    generated[f"exif{orientation}.jpg"] = save_oriented
for fname, make in generated.items():
    path = os.path.join(WORK, fname)
    make(path)
    if cv2.imread(path, cv2.IMREAD_COLOR) is None:
        print(f"note: cv2 cannot read generated {fname}; skipped")
        continue
    decode_check(path, fname)

# ---- resize --------------------------------------------------------------------------------
for name in IMAGES:
    path = os.path.join(SAMPLES, name)
    src = cv_rgb(path)
    h, w = src.shape[:2]
    sizes = [
        (w // 2, h // 2),                       # integer factor down (or nearly: odd sides)
        (224, 224),                             # non-integer down, aspect changed
        (33, 17),                               # odd, strong downscale
        (w * 2, h * 2),                         # integer factor up
        (int(w * 1.37) | 1, int(h * 1.21) | 1),  # non-integer up, odd
    ]
    pil_src = Image.fromarray(src)
    for (ow, oh) in sizes:
        for method, interp in OPENCV.items():
            got = run_resize(path, ow, oh, method, os.path.join(WORK, "out.npy"))
            ref = cv2.resize(src, (ow, oh), interpolation=interp)
            ok = got is not None and got.dtype == np.uint8 and np.array_equal(got, ref)
            check(ok, f"{name} {ow}x{oh} {method}: " +
                  ("no output" if got is None else describe_diff(got, ref)))
        for method, flt in PIL.items():
            got = run_resize(path, ow, oh, method, os.path.join(WORK, "out.npy"))
            ref = np.asarray(pil_src.resize((ow, oh), flt))
            ok = got is not None and got.dtype == np.uint8 and np.array_equal(got, ref)
            check(ok, f"{name} {ow}x{oh} {method}: " +
                  ("no output" if got is None else describe_diff(got, ref)))

# ---- crop, gray, PNG output, errors --------------------------------------------------------
cat = os.path.join(SAMPLES, "coral_cat.bmp")
src = cv_rgb(cat)
h, w = src.shape[:2]
crop_w = (h * 2 + 1) // 2  # square target: the centred h x h window
x0 = (w - crop_w) // 2
got = run_resize(cat, 96, 96, "opencv-area", os.path.join(WORK, "crop.npy"), ["--crop", "center"])
ref = cv2.resize(src[:, x0:x0 + crop_w], (96, 96), interpolation=cv2.INTER_AREA)
check(got is not None and np.array_equal(got, ref), "crop=center vs numpy slice + cv2.resize")

got = run_resize(cat, 50, 40, "opencv-linear", os.path.join(WORK, "gray.npy"), ["--gray"])
ref = cv2.resize(cv2.cvtColor(src, cv2.COLOR_RGB2GRAY), (50, 40), interpolation=cv2.INTER_LINEAR)
check(got is not None and got.shape == (40, 50, 1) and np.array_equal(got[:, :, 0], ref),
      "--gray vs cv2.cvtColor(RGB2GRAY) + cv2.resize")

png = run_resize(cat, 77, 51, "pil-bicubic", os.path.join(WORK, "out.png"))
npy = run_resize(cat, 77, 51, "pil-bicubic", os.path.join(WORK, "out.npy"))
check(png is not None and npy is not None and np.array_equal(cv_rgb(png), npy),
      "PNG output equals the .npy output")

tf = run_resize(cat, 77, 51, "tf-bilinear-half-pixel", os.path.join(WORK, "tf.npy"))
check(tf is not None and tf.dtype == np.float32 and tf.shape == (51, 77, 3) and
      float(tf.min()) >= 0.0 and float(tf.max()) <= 255.0, "tf-* writes float32 in 0..255")

bad = os.path.join(WORK, "not_an_image.png")
with open(bad, "wb") as f:
    f.write(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20)
r = subprocess.run([CLI, "resize", bad, "--size", "8x8", "--method", "opencv-area", "--out",
                    os.path.join(WORK, "x.npy")], capture_output=True, text=True)
check(r.returncode == 2 and r.stderr.startswith("error: " + bad) and r.stderr.count("\n") == 1,
      f"unreadable image: exit {r.returncode}, stderr {r.stderr!r}")
r = subprocess.run([CLI, "resize", cat, "--size", "8x8", "--method", "cv-area", "--out",
                    os.path.join(WORK, "x.npy")], capture_output=True, text=True)
check(r.returncode == 1 and "opencv-area" in r.stderr, f"unknown method: exit {r.returncode}")
r = subprocess.run([CLI, "resize", os.path.join(WORK, "missing.jpg"), "--size", "8x8",
                    "--method", "opencv-area", "--out", os.path.join(WORK, "x.npy")],
                   capture_output=True, text=True)
check(r.returncode == 2 and "missing.jpg" in r.stderr, f"missing file: exit {r.returncode}")

# ---- run / report with an image input ---------------------------------------------------
model = os.path.join(CONFORMANCE, "resnet8_cifar_int8", "model.tflite")
dump = os.path.join(WORK, "run_dump")
r = subprocess.run([CLI, "run", model, "--input", "0=" + cat, "--preprocess",
                    "method=opencv-area,norm=raw", "--dump", dump], capture_output=True, text=True)
ok = r.returncode == 0 and "error max 0," in r.stdout
if ok:
    index = [l.split("\t") for l in open(os.path.join(dump, "index.tsv")).read().splitlines()[1:]]
    tid = [row[0] for row in index if row[1] == "input_1_int8"][0]  # the model's input
    got = np.load(os.path.join(dump, f"t{tid}.npy"))
    want = np.load(os.path.join(CONFORMANCE, "resnet8_cifar_int8", "inputs", "input_0.npy"))
    ok = got.dtype == want.dtype and np.array_equal(got, want)
check(ok, f"run --preprocess reproduces resnet8_cifar_int8 input_0.npy: {r.stdout}{r.stderr}")
r = subprocess.run([CLI, "report", model, "--input", "0=" + cat, "--preprocess",
                    "method=opencv-area,size=32x32,norm=raw", "--csv",
                    os.path.join(WORK, "report.csv")], capture_output=True, text=True)
check(r.returncode == 0 and os.path.getsize(os.path.join(WORK, "report.csv")) > 0,
      f"report with an image input: exit {r.returncode} {r.stderr}")
r = subprocess.run([CLI, "run", model, "--input", "0=" + cat, "--preprocess", "size=64x64",
                    "--dump", dump], capture_output=True, text=True)
check(r.returncode == 2 and "does not match" in r.stderr and r.stderr.count("\n") == 1,
      f"size mismatch: exit {r.returncode} {r.stderr!r}")
r = subprocess.run([CLI, "run", model, "--input", "0=" + cat, "--preprocess", "norm=zero",
                    "--dump", dump], capture_output=True, text=True)
check(r.returncode == 1, f"bad --preprocess: exit {r.returncode}")

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
