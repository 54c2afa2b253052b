#!/usr/bin/env python3
"""Comparisons for the GPU proof (scripts/gpu-check.sh), with numpy and Pillow only.

  gpu_parity.py images A.png B.png [--tol 1]   pixels within tol gray levels (of 255)
  gpu_parity.py losses REF.jsonl RUN.jsonl     metrics of a run against a reference run of the same
                                               seed, with tests/train_compare.c's bounds (what another
                                               summation order does to a GAN's trajectory): 1e-4
                                               relative + 1e-5 at iteration 1; x (|value| + 0.1):
                                               5e-3 at iterations 2-5, 0.1 at 6-20, 2.5e-2 for the
                                               means over iterations 6-10 and 11-20
Prints one line; exits 0 when they match, 1 otherwise.
"""
import json
import sys

import numpy as np
from PIL import Image

KEYS = ("loss_d_real", "loss_d_fake", "loss_g", "d_x", "d_g_z1", "d_g_z2")


def images(a, b, tol):
    x = np.asarray(Image.open(a), dtype=np.int32)
    y = np.asarray(Image.open(b), dtype=np.int32)
    if x.shape != y.shape:
        print(f"{a} {x.shape} vs {b} {y.shape}: shapes differ")
        return 1
    d = np.abs(x - y)
    bad = int((d > tol).sum())
    print(f"{b} vs {a}: max difference {int(d.max())}/255, {bad} of {d.size} values beyond {tol}")
    return 1 if bad else 0


# tests/train_compare.c's bounds, derived there from runs that differ by rounding alone.
FIRST_REL, FIRST_ABS = 1e-4, 1e-5
EARLY, LATE, WINDOW, FLOOR = 5e-3, 0.1, 2.5e-2, 0.1
WINDOWS = ((5, 10), (10, 20))


def losses(ref, run):
    def load(path):
        return [json.loads(line) for line in open(path) if line.strip()]
    r, g = load(ref), load(run)
    n = min(len(r), len(g), 20)
    worst, bad = 0.0, []
    for i in range(n):
        for k in KEYS:
            d = abs(r[i][k] - g[i][k])
            if i == 0:
                tol = FIRST_ABS + FIRST_REL * abs(r[i][k])
            else:
                tol = (EARLY if i < 5 else LATE) * (abs(r[i][k]) + FLOOR)
            worst = max(worst, d / tol)
            if not d <= tol:
                bad.append(f"iteration {i + 1} {k}: {r[i][k]:.6g} vs {g[i][k]:.6g}")
    for w0, w1 in WINDOWS:
        if n < w1:
            continue
        for k in KEYS:
            ma = sum(x[k] for x in r[w0:w1]) / (w1 - w0)
            mb = sum(x[k] for x in g[w0:w1]) / (w1 - w0)
            if not abs(ma - mb) <= WINDOW * (abs(ma) + FLOOR):
                bad.append(f"mean {k} over iterations {w0 + 1}-{w1}: {ma:.6g} vs {mb:.6g}")
    print(f"{n} iterations compared, largest difference {worst:.3f} of its bound, {len(bad)} beyond"
          + (f"; first: {bad[0]}" if bad else ""))
    return 1 if bad or n == 0 else 0


def main(argv):
    if len(argv) >= 3 and argv[0] == "images":
        tol = int(argv[argv.index("--tol") + 1]) if "--tol" in argv else 1
        return images(argv[1], argv[2], tol)
    if len(argv) == 3 and argv[0] == "losses":
        return losses(argv[1], argv[2])
    print(__doc__.strip().splitlines()[2], file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
