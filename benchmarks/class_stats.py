#!/usr/bin/env python3
"""Per-class statistics of generated Fashion-MNIST images, a measure that needs no Inception weights:
each image goes to the class whose mean training image (at 32 px, as dcgan trains) is nearest, and
  coverage  total variation distance between the classes' shares and the data's (0: every class as
            often as in the data; 0.9: one class only)
  distance  RMS pixel distance (in [0, 1] units) of an image to its nearest class mean, averaged:
            lower is closer to a typical item; the test images' value is what real data gives
The same numbers for the 10,000 test images are printed as the reference.
usage: class_stats.py FOLDER [FOLDER ...] [--data /usr/share/datasets/fashion-mnist] [--json]
Needs numpy and PIL (Debian: python3-numpy python3-pil)."""
import argparse
import gzip
import json
import os
import struct

import numpy as np
from PIL import Image


def idx(path):
    with gzip.open(path) if path.endswith(".gz") else open(path, "rb") as f:
        data = f.read()
    magic, n = struct.unpack(">II", data[:8])
    if magic == 0x803:
        rows, cols = struct.unpack(">II", data[8:16])
        return np.frombuffer(data, np.uint8, offset=16).reshape(n, rows, cols)
    return np.frombuffer(data, np.uint8, offset=8)


def find(data, name):
    for suffix in ("", ".gz"):
        p = os.path.join(data, name + suffix)
        if os.path.exists(p):
            return p
    raise SystemExit("error: %s: no %s[.gz]" % (data, name))


def at32(images):
    """torchvision's Resize(32) (bilinear) of 28 x 28 items, in [0, 1], flattened."""
    return np.stack([np.asarray(Image.fromarray(im).resize((32, 32), Image.BILINEAR), np.float32) / 255.0
                     for im in images]).reshape(len(images), -1)


def stats(x, means, shares):
    d2 = (x ** 2).sum(1)[:, None] - 2 * x @ means.T + (means ** 2).sum(1)[None, :]
    nearest = d2.argmin(1)
    got = np.bincount(nearest, minlength=len(means)) / len(x)
    rms = np.sqrt(np.maximum(d2[np.arange(len(x)), nearest], 0) / x.shape[1]).mean()
    return {"images": len(x), "coverage_tv": float(0.5 * np.abs(got - shares).sum()), "distance": float(rms),
            "shares": [round(float(v), 4) for v in got]}


def folder(path):
    files = sorted(f for f in os.listdir(path) if f.endswith(".png"))
    if not files:
        raise SystemExit("error: %s: no PNG files" % path)
    return np.stack([np.asarray(Image.open(os.path.join(path, f)).convert("L"), np.float32).reshape(-1) / 255.0
                     for f in files])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("folders", nargs="+")
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    train, labels = idx(find(a.data, "train-images-idx3-ubyte")), idx(find(a.data, "train-labels-idx1-ubyte"))
    x = at32(train)
    means = np.stack([x[labels == k].mean(0) for k in range(10)])
    shares = np.bincount(labels, minlength=10) / len(labels)
    rows = {"test images": stats(at32(idx(find(a.data, "t10k-images-idx3-ubyte"))), means, shares)}
    for f in a.folders:
        rows[f] = stats(folder(f), means, shares)
    for name, r in rows.items():
        if a.json:
            print(json.dumps(dict(set=name, **r)))
        else:
            print("%-40s %6d images  coverage TV %.4f  distance %.4f" % (name, r["images"], r["coverage_tv"], r["distance"]))


if __name__ == "__main__":
    main()
