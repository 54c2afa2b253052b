#!/usr/bin/env python3
"""PyTorch baseline for benchmarks/bench_inception.c: the forward throughput of pytorch-fid's
InceptionV3([3]) (the network FID users run: its own bilinear resize to 299 x 299 and the
[0, 1] -> [-1, 1] normalisation inside forward), in eval mode under torch.no_grad.

The weights are the formula weights of tests/inception_random.c, from
tests/make_inception_fixture.py's formula_state_dict (installed as the fixture script does, in
place of pytorch-fid's download); if that import fails, the network keeps its own random init (the
speed does not depend on the values). Nothing is downloaded.

Timing follows bench_inception: random images in [0, 1] made once on the host, one warm-up batch,
then --repeats timed passes over --images images a --batch at a time (a short last batch stays
short, as in pytorch-fid's calculate_activations), each batch moved to the device and its features
brought back to the host as numpy, torch.cuda.synchronize before the clock stops on cuda.
Grey images (--nc 1) are repeated to RGB first, as pytorch-fid's callers do.

Needs torch, torchvision and pytorch-fid. Debian: apt-get install python3-torch python3-torchvision,
then pytorch-fid (pure Python) in a venv that sees them:
    python3 -m venv --system-site-packages ENV && ENV/bin/pip install --no-deps pytorch-fid
    ENV/bin/python benchmarks/pytorch_inception.py --size 32 --nc 1 --threads 2 [--json]
"""
import argparse
import json
import os
import statistics
import sys
import time

import numpy as np
import torch
import pytorch_fid.inception as pfi


def own_init_state_dict(url, progress=True):
    """Stands in for pytorch-fid's download: the network's own (random) initialisation."""
    return pfi._inception_v3(num_classes=1008, aux_logits=False, weights=None).state_dict()


def build_net(device):
    weights = "formula (tests/inception_random.c)"
    try:
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
        from make_inception_fixture import formula_state_dict
        pfi.load_state_dict_from_url = formula_state_dict
    except Exception as e:  # noqa: BLE001 - any failure: the speed does not need these values
        print("note: formula weights unavailable (%s); the network's own init" % e, file=sys.stderr)
        pfi.load_state_dict_from_url = own_init_state_dict
        weights = "own init"
    net = pfi.InceptionV3([pfi.InceptionV3.BLOCK_INDEX_BY_DIM[2048]]).eval().to(device)
    return net, weights


def main(argv=None):
    p = argparse.ArgumentParser(description="Time pytorch-fid's InceptionV3 forward (FID features)")
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    p.add_argument("--batch", type=int, default=50, help="images per batch (default 50, pytorch-fid's)")
    p.add_argument("--size", type=int, default=64, help="input image side")
    p.add_argument("--nc", type=int, default=3, choices=(1, 3))
    p.add_argument("--images", type=int, default=200, help="images per timed repeat")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0 = torch default)")
    p.add_argument("--json", action="store_true", help="print one JSON line after the text (text on stderr)")
    args = p.parse_args(argv)
    if min(args.batch, args.size, args.images, args.repeats) < 1:
        p.error("--batch, --size, --images and --repeats must be positive")
    if args.threads:
        torch.set_num_threads(args.threads)
    text = sys.stderr if args.json else sys.stdout
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print("skipped: torch sees no CUDA device", file=sys.stderr)
        return 77
    torch.backends.cudnn.benchmark = True

    net, weights = build_net(device)
    n = max(args.images, args.batch)
    rng = np.random.default_rng(0)
    images = torch.from_numpy(rng.random((n, args.nc, args.size, args.size), dtype=np.float32))
    what = "torch %s, %s, %d threads" % (torch.__version__, args.device, torch.get_num_threads())
    if device.type == "cuda":
        what += ", " + torch.cuda.get_device_name(device)
    print("pytorch-fid InceptionV3 (%s; weights: %s)" % (what, weights), file=text)

    def features(count):
        out = []
        for first in range(0, count, args.batch):
            x = images[first:min(first + args.batch, count)].to(device)
            if args.nc == 1:
                x = x.repeat(1, 3, 1, 1)
            out.append(net(x)[0].squeeze(3).squeeze(2).cpu().numpy())
        if device.type == "cuda":
            torch.cuda.synchronize()
        return out

    ips = []
    with torch.no_grad():
        features(args.batch)  # warm-up (cuDNN's algorithm search on cuda)
        for r in range(args.repeats):
            t0 = time.perf_counter()
            features(args.images)
            ips.append(args.images / (time.perf_counter() - t0))
            print("repeat %d: %.2f images/s" % (r + 1, ips[-1]), file=text)
    median = statistics.median(ips)
    print("pytorch-fid inception (%s, %d threads): size %d nc %d batch %d, %d images x %d repeats: median %.2f images/s"
          % (args.device, torch.get_num_threads(), args.size, args.nc, args.batch, args.images, args.repeats, median),
          file=text)
    if args.json:
        print(json.dumps({"impl": "pytorch-fid", "device": args.device, "torch": torch.__version__,
                          "weights": weights, "size": args.size, "nc": args.nc, "batch": args.batch,
                          "images": args.images, "repeats": args.repeats, "threads": torch.get_num_threads(),
                          "images_per_s": round(median, 3), "repeat_images_per_s": [round(x, 3) for x in ips]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
